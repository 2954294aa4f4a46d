//! `{name}` placeholders in file templates (`backend.file`, a remote URL): parsing them, and
//! whether a name is what a template gives for some values. Used by the manifest (load-time
//! checks), `files` (filling a template from a request) and `remote` (where placeholders may
//! stand in a URL); depends on nothing.

/// The `{name}` placeholders of a file template, in order. Names are letters, digits, `_`, `-`.
pub fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!("'{template}': '}}' without '{{'"));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("'{template}': '{{' without '}}'"))?;
        let name = &after[..close];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!("'{template}': bad placeholder '{{{name}}}'"));
        }
        names.push(name);
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// Whether `name` is what `template` gives for some values of its placeholders (each one or
/// more characters of one path segment).
pub fn fills(template: &str, name: &str) -> bool {
    let Some(open) = template.find('{') else {
        return template == name;
    };
    let Some(close) = template[open..].find('}').map(|at| open + at) else {
        return false;
    };
    let (literal, rest) = (&template[..open], &template[close + 1..]);
    let Some(value_and_rest) = name.strip_prefix(literal) else {
        return false;
    };
    value_and_rest
        .char_indices()
        .skip(1)
        .map(|(at, _)| at)
        .chain([value_and_rest.len()])
        .take_while(|&at| !value_and_rest[..at].contains('/'))
        .any(|at| fills(rest, &value_and_rest[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_stand_for_names_one_segment_a_placeholder() {
        assert!(fills("prices/{t}.csv", "prices/AAPL.csv"));
        assert!(
            fills("{a}/{b}-{a}.pdf", "x/y-z.pdf"),
            "values are not compared"
        );
        assert!(fills("r/{t}.md", "r/a.b.md"));
        assert!(!fills("prices/{t}.csv", "prices/a/b.csv"), "one segment");
        assert!(
            !fills("prices/{t}.csv", "prices/.csv"),
            "at least one character"
        );
        assert!(!fills("prices/{t}.csv", "other/AAPL.csv"));
        assert!(fills("plain.csv", "plain.csv") && !fills("plain.csv", "plain.cs"));
    }

    #[test]
    fn placeholders_are_parsed() {
        assert_eq!(placeholders("r/{a}-{b_2}.md").unwrap(), ["a", "b_2"]);
        assert!(placeholders("plain.md").unwrap().is_empty());
        for bad in ["{}", "{a", "a}", "{a/b}", "{{a}}"] {
            assert!(placeholders(bad).is_err(), "{bad}");
        }
    }
}
