//! The crate's modules depend on each other one way only: reads every `crate::` path in
//! `src/` (outside `#[cfg(test)] mod` blocks, whose helpers may reach anywhere) and fails on a
//! cycle between top-level modules, naming it. Not a socket test: it reads source files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn modules_have_no_dependency_cycle() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        graph.contains_key("table") && graph.contains_key("app"),
        "{graph:?}"
    );
    let cycles = cycles(&graph);
    let found: Vec<&Vec<String>> = cycles.iter().collect();
    assert!(
        cycles.is_empty(),
        "modules that depend on each other (each uses the next, the last the first): {}",
        describe(&found, &graph)
    );
}

#[test]
fn the_check_finds_a_cycle_through_grouped_and_inline_paths() {
    let mut graph = Graph::new();
    for (module, source) in [
        ("a", "use crate::{b::Thing, c};\nfn f() { crate::d::g(); }"),
        (
            "d",
            "// crate::a in a comment\nuse crate::a::X;\n#[cfg(test)]\nmod tests { use crate::c; }",
        ),
        ("c", "fn f() {}"),
    ] {
        graph
            .entry(module.to_string())
            .or_default()
            .extend(uses(source));
    }
    assert_eq!(graph["a"], ["b", "c", "d"].map(String::from).into());
    assert_eq!(graph["d"], ["a"].map(String::from).into());
    assert_eq!(cycles(&graph), [vec!["a".to_string(), "d".to_string()]]);
}

/// Top-level module -> the top-level modules its code names (`src/widgets/pdf.rs` is
/// `widgets`; `lib.rs` and `main.rs`, which only wire modules together, are left out).
fn module_graph(src: &Path) -> Graph {
    let mut graph = Graph::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(
                fs::read_dir(&path)
                    .unwrap()
                    .map(|entry| entry.unwrap().path()),
            );
            continue;
        }
        let relative = path
            .strip_prefix(src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let is_test_file = relative.ends_with("/tests.rs");
        if !relative.ends_with(".rs")
            || is_test_file
            || relative == "lib.rs"
            || relative == "main.rs"
        {
            continue;
        }
        let module = relative
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        let source = fs::read_to_string(&path).unwrap();
        graph
            .entry(module.clone())
            .or_default()
            .extend(uses(&source));
        graph.get_mut(&module).unwrap().remove(&module);
    }
    graph
}

/// The top-level modules named as `crate::name` or inside `crate::{...}` in `source`, comments
/// and `#[cfg(test)] mod` blocks aside.
fn uses(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim().starts_with("mod "))
        {
            skip_block(&mut lines);
            continue;
        }
        if line.starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            match rest.strip_prefix('{') {
                Some(group) => names.extend(group_heads(group)),
                None => names.extend(ident(rest)),
            }
        }
    }
    names
}

/// Skips lines until the braces opened by the first line close.
fn skip_block<'a>(lines: &mut impl Iterator<Item = &'a str>) {
    let mut depth = 0i64;
    for line in lines {
        depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
        if depth <= 0 && line.contains('}') {
            return;
        }
    }
}

/// The first segment of each path in a `use crate::{...}` group (on one line).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let (mut depth, mut start) = (0, true);
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && !c.is_whitespace() => {
                start = false;
                heads.extend(ident(&group[at..]));
            }
            _ => {}
        }
    }
    heads
}

fn ident(text: &str) -> Option<String> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (end > 0 && text[..end] != *"self").then(|| text[..end].to_string())
}

/// The cycles of `graph`: each strongly connected component of more than one module, sorted.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let reaches = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut pending = vec![from.to_string()];
        while let Some(module) = pending.pop() {
            for next in graph.get(&module).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    pending.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> = graph
        .keys()
        .map(|module| (module, reaches(module)))
        .collect();
    let mut components: BTreeSet<Vec<String>> = BTreeSet::new();
    for (module, reach) in &reached {
        let component: Vec<String> = reach
            .iter()
            .filter(|other| {
                reached
                    .get(other)
                    .is_some_and(|back| back.contains(*module))
            })
            .cloned()
            .collect();
        if component.len() > 1 {
            components.insert(component);
        }
    }
    components.into_iter().collect()
}

/// Each cycle with the modules' edges inside it, e.g. `table -> filter, filter -> table`.
fn describe(cycles: &[&Vec<String>], graph: &Graph) -> String {
    let edges = |cycle: &Vec<String>| {
        let inside = cycle.iter().flat_map(|from| {
            graph[from]
                .iter()
                .filter(|to| cycle.contains(to))
                .map(move |to| format!("{from} -> {to}"))
        });
        inside.collect::<Vec<_>>().join(", ")
    };
    cycles
        .iter()
        .map(|cycle| format!("[{}]", edges(cycle)))
        .collect::<Vec<_>>()
        .join("; ")
}
