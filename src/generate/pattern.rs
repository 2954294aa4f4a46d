//! A folder of files of one kind, named alike but for their stem (`reports/AAPL.md`,
//! `reports/MSFT.md`), is one widget reading `reports/{ticker}.md`: its param lists the
//! folder's stems (from the folder at each request, so a file added later is offered) and
//! defaults to the first. The param is `ticker` when every stem reads as a ticker, else the
//! folder's name made singular (`letters/` → `letter`), else `name`; a second kind of alike
//! files in the folder offering other stems takes its extension after that name (`desk_md`),
//! as the generated dashboard links the params of one name.

use serde_json::{Map, Value, json};

use super::{generated_widget, id_of, title};

/// Param names Workspace sends itself or that a widget answers otherwise: never a file param.
const TAKEN: [&str; 4] = ["theme", "raw", "prompt", "filenames"];

/// Whether `stem` reads as a ticker: an upper-case letter, then up to five upper-case letters
/// or digits, with maybe a class suffix after `.` or `-` (`BRK.B`, `BF-B`).
fn is_ticker(stem: &str) -> bool {
    let (root, class) = match stem.split_once(['.', '-']) {
        Some((root, class)) => (root, Some(class)),
        None => (stem, None),
    };
    let upper = |text: &str| {
        text.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    root.starts_with(|c: char| c.is_ascii_uppercase())
        && root.len() <= 6
        && upper(root)
        && class.is_none_or(|class| (1..=2).contains(&class.len()) && upper(class))
}

/// The name of the param that picks a file of `folder` by stem.
pub(super) fn param_name(folder: &str, stems: &[&str]) -> String {
    if stems.iter().all(|stem| is_ticker(stem)) {
        return "ticker".into();
    }
    let word = id_of(folder.rsplit('/').next().unwrap_or(folder));
    let singular = match word.strip_suffix('s') {
        Some(stem) if !stem.ends_with('s') && stem.len() > 1 => stem,
        _ => &word,
    };
    let usable =
        singular.starts_with(|c: char| c.is_ascii_lowercase()) && !TAKEN.contains(&singular);
    match usable {
        true => singular.to_string(),
        false => "name".into(),
    }
}

/// The widget (id `id`, type `kind`) reading `folder/{param}.extension`, whose param offers
/// `stems` (the folder's, in its order) and starts at the first. A type that takes
/// `backend.filters` gets `{param: null}`: the param picks the file, never filters its rows.
pub(super) fn widget(
    id: &str,
    kind: &str,
    described: &str,
    folder: &str,
    extension: &str,
    param: &str,
    stems: &[&str],
) -> Map<String, Value> {
    let file = format!("{folder}/{{{param}}}.{extension}");
    let mut backend = json!({
        "file": file,
        "options": {param: {"folder": folder, "extension": extension, "stems": true}},
    });
    if kind != "markdown" {
        backend["filters"] = json!({param: null});
    }
    let description = format!("{described} from data/{file}, one file a {param}");
    let rest = json!({
        "params": [{"paramName": param, "type": "endpoint", "label": title(param),
                    "optionsEndpoint": format!("{id}/options/{param}"),
                    "value": stems.first().copied().unwrap_or_default()}],
        "backend": backend,
    });
    generated_widget(id, kind, folder, description, 12, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_named_for_what_the_stems_are() {
        assert_eq!(
            param_name("reports", &["AAPL", "BRK.B", "BF-B", "X1"]),
            "ticker"
        );
        assert_eq!(param_name("research/letters", &["q1", "q2"]), "letter");
        assert_eq!(param_name("reports", &["AAPL", "Apple"]), "report");
        assert_eq!(param_name("class", &["a", "b"]), "class");
        assert_eq!(
            param_name("themes", &["a", "b"]),
            "name",
            "Workspace sends theme"
        );
        assert_eq!(param_name("2024", &["a", "b"]), "name");
        assert!(!is_ticker("TOOLONGX") && !is_ticker("aapl") && !is_ticker("A.bc"));
    }
}
