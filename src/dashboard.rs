//! The dashboard of a folder: the `apps.json` served when the root has neither `widgets.json`
//! nor `apps.json`, and the one `init` writes. Made from the served manifest alone (each
//! widget as Workspace sees it, and the file or folder it reads), so it fits whatever widgets
//! the folder gives.
//!
//! One app, named after the root folder:
//! - **Tabs**: one per top folder of `data/` (`reports/AAPL.md` is on "Reports"), the widgets of
//!   files at the top of `data/` first on "Overview"; when every widget reads from the top of
//!   `data/`, one per kind instead ([`KIND_TABS`]: Data, Charts, News, Notes, Documents,
//!   Search, Other).
//! - **Layout**: within a tab, metrics first, then the manifest's order. A widget takes its
//!   `gridData` size, or its type's ([`default_size`]), kept within the grid, and goes where its
//!   top is highest, leftmost on a tie (a skyline over the 40 columns), from row [`TOP`].
//! - **Groups**: widgets sharing a parameter ([`Link`]: the same `paramName`, both dropdowns of
//!   an options endpoint or neither, both multi-select or neither; file selectors, buttons and
//!   forms never) are linked in a group `Group N`, so that choosing a ticker in one sets it in
//!   the others; the group's `defaultValue` is the first default its members have, which every
//!   member's layout item starts with (`state.params`).
//!
//! Invariants: no two items of a tab overlap; every item lies within the grid; every served
//! widget is on exactly one tab; the output depends only on the manifest and the name, so what
//! `init` writes is what the server serves. No widgets: `[]`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::http::Payload;
use crate::manifest::{Articles, Kind, Manifest, Widget};
use crate::remote::is_remote;
use crate::validate::{GRID_COLUMNS, GRID_ROWS, Problem};

/// The row a tab's first widgets start at, as in the layouts Workspace exports.
pub const TOP: u64 = 2;

/// The tabs of a folder whose files are all at the top of `data/`, in order, with the widget
/// types each holds (a type listed nowhere goes on "Other").
pub const KIND_TABS: [(&str, &[&str]); 7] = [
    (
        "Data",
        &[
            "table",
            "ssrm_table",
            "ssrm_advanced",
            "live_grid",
            "metric",
        ],
    ),
    (
        "Charts",
        &[
            "chart",
            "chart-highcharts",
            "chart-vegalite",
            "advanced_charting",
        ],
    ),
    ("News", &["newsfeed"]),
    ("Notes", &["markdown", "html", "note", "rich_note"]),
    ("Documents", &["pdf", "multi_file_viewer", "file_viewer"]),
    ("Search", &["omni"]),
    ("Other", &[]),
];

/// The tab of the widgets of files at the top of `data/`, beside the folders' tabs.
const TOP_FOLDER_TAB: &str = "Overview";

/// The dashboard of the last manifest asked about, checked against it, made again only when
/// the manifest is another (the generated manifest is a new value whenever `data/` changes).
pub struct Dashboard {
    name: String,
    last: Mutex<Option<(Arc<Manifest>, Checked)>>,
}

/// Apps as served, with the problems [`Manifest::apps`] found in them.
pub type Checked = (Payload, Vec<Problem>);

impl Dashboard {
    /// The dashboard of the folder `root` (its name is the app's).
    pub fn new(root: &Path) -> Dashboard {
        Dashboard {
            name: app_name(root),
            last: Mutex::new(None),
        }
    }

    /// [`apps`] of `manifest` as served at `/apps.json` (through [`Manifest::apps`], as any
    /// `apps.json` is: a problem would be listed at `/`), with its problems.
    pub fn get(&self, manifest: &Arc<Manifest>) -> Checked {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match &*last {
            Some((made_for, checked)) if Arc::ptr_eq(made_for, manifest) => checked.clone(),
            _ => {
                let bytes = serde_json::to_vec(&apps(manifest, &self.name)).unwrap_or_default();
                let checked = manifest.apps(&Payload::new(bytes));
                *last = Some((Arc::clone(manifest), checked.clone()));
                checked
            }
        }
    }
}

/// The app's name: the root folder's, as a title (`~/research-desk` → `Research desk`).
pub fn app_name(root: &Path) -> String {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    root.file_name()
        .map(|name| title(&name.to_string_lossy()))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "Files".to_string())
}

/// The `apps.json` document laying out every widget `manifest` serves: `[app]`, or `[]` when
/// it serves none.
pub fn apps(manifest: &Manifest, name: &str) -> Value {
    let served: Map<String, Value> =
        serde_json::from_slice(&manifest.served.bytes).unwrap_or_default();
    let entries: Vec<Entry> = manifest
        .widgets()
        .filter_map(|widget| {
            Some(Entry {
                id: &widget.id,
                served: served.get(&widget.id)?,
                folder: top_folder(widget),
            })
        })
        .collect();
    if entries.is_empty() {
        return json!([]);
    }
    let by_folder = entries.iter().any(|entry| entry.folder.is_some());
    let tabs: Vec<(String, Vec<Placed>)> = match by_folder {
        true => folder_tabs(&entries),
        false => kind_tabs(&entries),
    }
    .into_iter()
    .map(|(name, members)| (name, layout(&members)))
    .collect();
    let groups = groups(&tabs);
    let mut membership: HashMap<&str, Vec<&Group>> = HashMap::new();
    for group in &groups {
        for id in &group.widgets {
            membership.entry(id).or_default().push(group);
        }
    }
    let mut tab_ids: Vec<String> = Vec::new();
    let mut tabs_json = Map::new();
    for (name, placed) in &tabs {
        let id = free(slug(name), &tab_ids);
        let layout: Vec<Value> = placed
            .iter()
            .map(|p| p.item(membership.get(p.id.as_str()).map_or(&[], Vec::as_slice)))
            .collect();
        tabs_json.insert(
            id.clone(),
            json!({"id": id, "name": name, "layout": layout}),
        );
        tab_ids.push(id);
    }
    let described = match by_folder {
        true => "a tab per folder",
        false => "a tab per kind of widget",
    };
    json!([{
        "name": name,
        "description": format!("Every widget made from the files in data/, {described}; \
                                widgets sharing a parameter are linked (openbb-files)"),
        "img": "", "img_dark": "", "img_light": "",
        "allowCustomization": true,
        "tabs": tabs_json,
        "groups": groups.iter().map(Group::json).collect::<Vec<_>>(),
        "prompts": []
    }])
}

/// A served widget, as the dashboard needs it.
struct Entry<'m> {
    id: &'m str,
    /// Its entry in the served `widgets.json` (type, `gridData`, params).
    served: &'m Value,
    /// The top folder of `data/` it reads from; `None`: the top of `data/` itself, or a URL.
    folder: Option<&'m str>,
}

impl Entry<'_> {
    fn widget_type(&self) -> &str {
        self.served["type"].as_str().unwrap_or("table")
    }
}

/// The folder at the top of `data/` that a widget reads from: the first segment of its file
/// or folder (`reports/{ticker}.md`, folder `filings`); `None` for a file at the top, a URL, or
/// a first segment that is a placeholder.
fn top_folder(widget: &Widget) -> Option<&str> {
    let (path, is_folder) = match &widget.kind {
        Kind::MultiFileViewer { folder, .. }
        | Kind::Omni { folder }
        | Kind::Newsfeed(Articles::Notes { folder }) => (folder.as_str(), true),
        kind => (
            kind.source()?.file.as_deref().unwrap_or(&widget.endpoint),
            false,
        ),
    };
    let top = match path.split_once('/') {
        _ if is_remote(path) => return None,
        Some((top, _)) => top,
        None if is_folder => path,
        None => return None,
    };
    (!top.is_empty() && !top.contains('{')).then_some(top)
}

/// A tab per top folder, the top of `data/` first (as [`TOP_FOLDER_TAB`]), folders by name;
/// a folder whose title another has taken (`a-b` after `a b`) keeps its name as written.
fn folder_tabs<'e, 'm>(entries: &'e [Entry<'m>]) -> Vec<(String, Vec<&'e Entry<'m>>)> {
    let mut folders: Vec<Option<&str>> = entries.iter().map(|entry| entry.folder).collect();
    folders.sort();
    folders.dedup();
    let mut tabs: Vec<(String, Vec<&Entry>)> = Vec::new();
    for folder in folders {
        let mut name = folder.map_or(TOP_FOLDER_TAB.to_string(), title);
        if tabs.iter().any(|(taken, _)| *taken == name) {
            name = folder.unwrap_or(TOP_FOLDER_TAB).to_string();
        }
        let members = entries.iter().filter(|e| e.folder == folder).collect();
        tabs.push((name, members));
    }
    tabs
}

/// A tab per kind of widget ([`KIND_TABS`]), the kinds no widget has left out.
fn kind_tabs<'e, 'm>(entries: &'e [Entry<'m>]) -> Vec<(String, Vec<&'e Entry<'m>>)> {
    let tab_of = |entry: &Entry| {
        KIND_TABS
            .iter()
            .position(|(_, types)| types.contains(&entry.widget_type()))
            .unwrap_or(KIND_TABS.len() - 1)
    };
    KIND_TABS
        .iter()
        .enumerate()
        .map(|(tab, (name, _))| {
            let members = entries.iter().filter(|e| tab_of(e) == tab).collect();
            (name.to_string(), members)
        })
        .filter(|(_, members): &(String, Vec<_>)| !members.is_empty())
        .collect()
}

/// A widget's place on its tab, with the parameters it may share.
struct Placed {
    id: String,
    x: u64,
    y: u64,
    w: u64,
    h: u64,
    links: Vec<(Link, Value)>,
}

impl Placed {
    /// The layout item: `i`, `x`, `y`, `w`, `h`, and for a widget in groups (`mine`) their
    /// names and the defaults it starts with.
    fn item(&self, mine: &[&Group]) -> Value {
        let mut item = json!({"i": self.id, "x": self.x, "y": self.y, "w": self.w, "h": self.h});
        if mine.is_empty() {
            return item;
        }
        let params: Map<String, Value> = mine
            .iter()
            .filter_map(|g| Some((g.link.name.clone(), g.default.clone()?)))
            .collect();
        if !params.is_empty() {
            item["state"] = json!({ "params": params });
        }
        item["groups"] = mine.iter().map(|g| g.name.clone()).collect();
        item
    }
}

/// Lays out a tab: metrics first, then in order; each widget where its top is highest (the
/// leftmost such place), so no two overlap and all lie within the grid.
fn layout(entries: &[&Entry]) -> Vec<Placed> {
    let mut ordered = entries.to_vec();
    ordered.sort_by_key(|entry| entry.widget_type() != "metric");
    let mut skyline = [TOP; GRID_COLUMNS as usize];
    ordered
        .into_iter()
        .map(|entry| {
            let (w, h) = size(entry);
            let (x, y) = (0..=GRID_COLUMNS - w)
                .map(|x| {
                    let columns = &skyline[x as usize..(x + w) as usize];
                    (x, columns.iter().copied().max().unwrap_or(TOP))
                })
                .min_by_key(|&(x, y)| (y, x))
                .unwrap_or((0, TOP));
            skyline[x as usize..(x + w) as usize].fill(y + h);
            Placed {
                id: entry.id.to_string(),
                x,
                y,
                w,
                h,
                links: links(entry.served),
            }
        })
        .collect()
}

/// A widget's `gridData` size, or its type's default, within 1..=40 columns and 1..=100 rows.
fn size(entry: &Entry) -> (u64, u64) {
    let (w, h) = default_size(entry.widget_type());
    let read = |key: &str, default: u64, max: u64| {
        entry.served["gridData"][key]
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 1.0)
            .map_or(default, |n| (n.round() as u64).min(max))
    };
    (read("w", w, GRID_COLUMNS), read("h", h, GRID_ROWS))
}

/// The size of a widget of `widget_type` that gives none: a metric a quarter of the width,
/// documents and feeds taller, the rest half the width.
pub fn default_size(widget_type: &str) -> (u64, u64) {
    match widget_type {
        "metric" => (10, 5),
        "newsfeed" | "pdf" | "multi_file_viewer" | "file_viewer" | "omni" => (20, 16),
        _ => (20, 12),
    }
}

/// What makes two parameters one control Workspace can link: the name, whether it is a
/// dropdown of an options endpoint (a group of type `endpointParam`, else `param`), and
/// whether it takes several values.
#[derive(Clone, PartialEq)]
struct Link {
    name: String,
    endpoint: bool,
    multiple: bool,
}

/// The parameters of a served widget that may be linked, with their defaults. `params` may
/// hold rows (arrays) of params.
fn links(served: &Value) -> Vec<(Link, Value)> {
    let params = served["params"].as_array().into_iter().flatten();
    params
        .flat_map(|param| match param {
            Value::Array(row) => row.iter().collect(),
            param => vec![param],
        })
        .filter_map(|param| {
            let name = param["paramName"].as_str().filter(|n| !n.is_empty())?;
            let kind = param["type"].as_str().unwrap_or("text");
            let selects_files = param["roles"]
                .as_array()
                .is_some_and(|roles| roles.iter().any(|r| r == "fileSelector"));
            if selects_files || matches!(kind, "form" | "button") {
                return None;
            }
            let link = Link {
                name: name.to_string(),
                endpoint: kind == "endpoint",
                multiple: param["multiSelect"] == true || param["multiple"] == true,
            };
            Some((link, param["value"].clone()))
        })
        .collect()
}

/// Widgets linked by one shared parameter.
struct Group<'p> {
    name: String,
    link: Link,
    /// The first member's default, when it has one (not null, `""` or `[]`).
    default: Option<Value>,
    widgets: Vec<&'p str>,
}

impl Group<'_> {
    fn json(&self) -> Value {
        let kind = match self.link.endpoint {
            true => "endpointParam",
            false => "param",
        };
        let mut group = json!({"name": self.name, "type": kind, "paramName": self.link.name});
        if let Some(default) = &self.default {
            group["defaultValue"] = default.clone();
        }
        group["widgetIds"] = json!(self.widgets);
        group
    }
}

/// A group for each [`Link`] two or more widgets share, in the order the tabs first show
/// them, named `Group 1`, `Group 2`, ...
fn groups(tabs: &[(String, Vec<Placed>)]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = Vec::new();
    for placed in tabs.iter().flat_map(|(_, placed)| placed) {
        for (link, default) in &placed.links {
            let has_default = match default {
                Value::Null => false,
                Value::String(text) => !text.is_empty(),
                Value::Array(values) => !values.is_empty(),
                _ => true,
            };
            let default = has_default.then(|| default.clone());
            match groups.iter_mut().find(|g| g.link == *link) {
                // The same widget again: a second param of that name.
                Some(group) if group.widgets.last() == Some(&placed.id.as_str()) => {}
                Some(group) => {
                    group.widgets.push(&placed.id);
                    group.default = group.default.take().or(default);
                }
                None => groups.push(Group {
                    name: String::new(),
                    link: link.clone(),
                    default,
                    widgets: vec![&placed.id],
                }),
            }
        }
    }
    groups.retain(|group| group.widgets.len() >= 2);
    for (n, group) in groups.iter_mut().enumerate() {
        group.name = format!("Group {}", n + 1);
    }
    groups
}

/// A display name from a folder name: `sec-filings` → `Sec filings`.
fn title(name: &str) -> String {
    let words = name.replace(['-', '_'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A tab id from its name: lower case letters, digits and `-`.
fn slug(name: &str) -> String {
    let mut id = String::new();
    for c in name.chars().map(|c| c.to_ascii_lowercase()) {
        match c {
            c if c.is_ascii_alphanumeric() => id.push(c),
            _ if id.ends_with('-') => {}
            _ => id.push('-'),
        }
    }
    match id.trim_matches('-') {
        "" => "tab".to_string(),
        id => id.to_string(),
    }
}

/// `id`, or the first of `id-2`, `id-3`, ... that is not `taken`.
fn free(id: String, taken: &[String]) -> String {
    match taken.contains(&id) {
        false => id,
        true => (2..)
            .map(|n| format!("{id}-{n}"))
            .find(|free| !taken.contains(free))
            .unwrap_or(id),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::validate;

    /// The manifest of `widgets` (widgets.json entries, each at the endpoint of its id unless
    /// it names one), every entry served.
    fn manifest(mut widgets: Value) -> Manifest {
        for (id, entry) in widgets.as_object_mut().unwrap() {
            if entry.get("endpoint").is_none() {
                entry["endpoint"] = json!(id);
            }
        }
        let manifest = Manifest::parse(Some(widgets.to_string().as_bytes())).unwrap();
        assert_eq!(manifest.problems, [], "{widgets}");
        manifest
    }

    fn widget(kind: &str, file: &str, params: Value) -> Value {
        json!({"name": file, "description": "d", "type": kind, "params": params,
               "backend": {"file": file}})
    }

    fn ticker(options: &str, value: &str) -> Value {
        json!({"paramName": "ticker", "type": "endpoint", "optionsEndpoint": options,
               "value": value})
    }

    /// A layout item as `(i, x, y, w, h)`.
    type Item = (String, u64, u64, u64, u64);

    /// Each tab's layout, by tab name.
    fn boxes(apps: &Value) -> Vec<(String, Vec<Item>)> {
        let tabs = apps[0]["tabs"].as_object().into_iter().flatten();
        tabs.map(|(_, tab)| tab)
            .map(|tab| {
                let items = tab["layout"].as_array().unwrap().iter().map(|item| {
                    let n = |key: &str| item[key].as_u64().unwrap();
                    let id = item["i"].as_str().unwrap().to_string();
                    (id, n("x"), n("y"), n("w"), n("h"))
                });
                (tab["name"].as_str().unwrap().to_string(), items.collect())
            })
            .collect()
    }

    /// A small deterministic generator (a linear congruential one), for the property test.
    struct Random(u64);

    impl Random {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn no_two_widgets_overlap_and_all_fit_the_grid_whatever_the_folder() {
        let types = ["table", "metric", "markdown", "pdf", "html", "chart"];
        let extensions = ["csv", "json", "md", "pdf", "html", "json"];
        let folders = ["", "", "reports/", "filings/", "a/b/"];
        let mut random = Random(19);
        for round in 0..150 {
            let mut widgets = Map::new();
            for n in 0..random.below(25) {
                let kind = random.below(types.len() as u64) as usize;
                let folder = folders[random.below(folders.len() as u64) as usize];
                let file = format!("{folder}f{n}.{}", extensions[kind]);
                let mut entry = widget(types[kind], &file, json!([]));
                let sizes = [
                    json!(0),
                    json!(3),
                    json!(7.6),
                    json!(20),
                    json!(41),
                    json!(250),
                ];
                match random.below(3) {
                    0 => {}
                    _ => {
                        let w = &sizes[random.below(sizes.len() as u64) as usize];
                        let h = &sizes[random.below(sizes.len() as u64) as usize];
                        entry["gridData"] = json!({"w": w, "h": h});
                    }
                }
                widgets.insert(format!("w{n}"), entry);
            }
            let count = widgets.len();
            let manifest = manifest(Value::Object(widgets));
            let mut apps = apps(&manifest, "Desk");
            let mut seen = Vec::new();
            for (tab, items) in boxes(&apps) {
                for (k, a) in items.iter().enumerate() {
                    assert!(
                        a.3 >= 1 && a.1 + a.3 <= GRID_COLUMNS,
                        "round {round}: {a:?}"
                    );
                    assert!(
                        a.4 >= 1 && a.4 <= GRID_ROWS && a.2 >= TOP,
                        "round {round}: {a:?}"
                    );
                    for b in &items[k + 1..] {
                        let apart = a.1 + a.3 <= b.1
                            || b.1 + b.3 <= a.1
                            || a.2 + a.4 <= b.2
                            || b.2 + b.4 <= a.2;
                        assert!(apart, "round {round}, tab {tab}: {a:?} overlaps {b:?}");
                    }
                    seen.push(a.0.clone());
                }
            }
            seen.sort();
            let mut ids: Vec<String> = manifest.ids().map(str::to_string).collect();
            ids.sort();
            assert_eq!(seen, ids, "round {round}: every widget once");
            match count {
                0 => assert_eq!(apps, json!([])),
                _ => {
                    let ids: HashSet<&str> = manifest.ids().collect();
                    assert_eq!(validate::apps(&mut apps, &ids), [], "round {round}");
                }
            }
        }
    }

    #[test]
    fn tabs_are_top_folders_with_the_top_of_data_first() {
        let manifest = manifest(json!({
            "report": widget("markdown", "reports/{ticker}.md", json!([ticker("r/t", "AAPL")])),
            "prices": widget("table", "prices.csv", json!([])),
            "library": {"name": "Filings", "description": "d", "type": "multi_file_viewer",
                        "endpoint": "library",
                        "params": [{"paramName": "files", "type": "endpoint", "roles": ["fileSelector"],
                                    "optionsEndpoint": "library/files", "value": []}],
                        "backend": {"folder": "sec-filings"}},
            "deep": widget("pdf", "reports/2024/q4.pdf", json!([])),
            "remote": widget("table", "https://example.com/a/b.csv", json!([])),
        }));
        let apps = apps(&manifest, "Desk");
        let tabs: Vec<(String, Vec<String>)> = boxes(&apps)
            .into_iter()
            .map(|(tab, items)| (tab, items.into_iter().map(|item| item.0).collect()))
            .collect();
        let tab = |name: &str, ids: &[&str]| {
            let ids = ids.iter().map(|id| id.to_string()).collect();
            (name.to_string(), ids)
        };
        assert_eq!(
            tabs,
            [
                tab("Overview", &["prices", "remote"]),
                tab("Reports", &["report", "deep"]),
                tab("Sec filings", &["library"]),
            ]
        );
        let ids: Vec<&String> = apps[0]["tabs"].as_object().unwrap().keys().collect();
        assert_eq!(ids, ["overview", "reports", "sec-filings"]);
        assert_eq!(apps[0]["tabs"]["reports"]["id"], "reports");
        assert_eq!(apps[0]["name"], "Desk");
    }

    #[test]
    fn a_flat_folder_has_a_tab_per_kind_with_metrics_first() {
        let manifest = manifest(json!({
            "notes": widget("markdown", "notes.md", json!([])),
            "prices": widget("table", "prices.csv", json!([])),
            "perf": widget("chart", "perf.json", json!([])),
            "kpis": widget("metric", "kpis.json", json!([])),
            "letter": widget("pdf", "letter.pdf", json!([])),
            "news": widget("newsfeed", "news.json", json!([])),
        }));
        let apps = apps(&manifest, "Desk");
        let tabs = boxes(&apps);
        let names: Vec<&str> = tabs.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["Data", "Charts", "News", "Notes", "Documents"]);
        assert_eq!(
            tabs[0].1,
            [
                ("kpis".to_string(), 0, TOP, 10, 5),
                ("prices".to_string(), 10, TOP, 20, 12)
            ],
            "the metric first, each at the highest place left"
        );
        assert_eq!(tabs[4].1, [("letter".to_string(), 0, TOP, 20, 16)]);
    }

    #[test]
    fn widgets_sharing_a_parameter_are_linked_in_a_group() {
        let date =
            |value: Value| json!({"paramName": "start_date", "type": "date", "value": value});
        let manifest = manifest(json!({
            "prices": widget("table", "prices.csv",
                             json!([[ticker("prices/t", "MSFT")], [date(json!(null))]])),
            "report": widget("markdown", "reports/{ticker}.md", json!([ticker("r/t", "")])),
            "earnings": widget("table", "earnings.csv",
                               json!([ticker("e/t", "AAPL"), date(json!("2024-01-01"))])),
            "typed": widget("table", "typed.csv",
                            json!([{"paramName": "ticker", "type": "text", "value": "X"}])),
            "multi": widget("table", "multi.csv",
                            json!([{"paramName": "ticker", "type": "endpoint", "multiSelect": true,
                                    "optionsEndpoint": "m/t", "value": ["A"]}])),
            "one": {"name": "One", "description": "d", "type": "multi_file_viewer",
                    "endpoint": "one", "backend": {"folder": "one"},
                    "params": [{"paramName": "files", "type": "endpoint", "roles": ["fileSelector"],
                                "optionsEndpoint": "one/files", "value": []}]},
            "two": {"name": "Two", "description": "d", "type": "multi_file_viewer",
                    "endpoint": "two", "backend": {"folder": "two"},
                    "params": [{"paramName": "files", "type": "endpoint", "roles": ["fileSelector"],
                                "optionsEndpoint": "two/files", "value": []}]},
        }));
        let apps = apps(&manifest, "Desk");
        assert_eq!(
            apps[0]["groups"],
            json!([
                {"name": "Group 1", "type": "endpointParam", "paramName": "ticker",
                 "defaultValue": "MSFT", "widgetIds": ["prices", "earnings", "report"]},
                {"name": "Group 2", "type": "param", "paramName": "start_date",
                 "defaultValue": "2024-01-01", "widgetIds": ["prices", "earnings"]},
            ]),
            "a text ticker, a multi-select one and file selectors are not linked"
        );
        let items: Vec<&Value> = apps[0]["tabs"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|tab| tab["layout"].as_array().unwrap())
            .collect();
        let item = |id: &str| *items.iter().find(|item| item["i"] == id).unwrap();
        assert_eq!(item("prices")["groups"], json!(["Group 1", "Group 2"]));
        assert_eq!(
            item("prices")["state"],
            json!({"params": {"ticker": "MSFT", "start_date": "2024-01-01"}})
        );
        assert_eq!(item("report")["groups"], json!(["Group 1"]));
        assert_eq!(item("report")["state"]["params"], json!({"ticker": "MSFT"}));
        assert!(item("typed").get("groups").is_none() && item("typed").get("state").is_none());
        let ids: HashSet<&str> = manifest.ids().collect();
        assert_eq!(validate::apps(&mut apps.clone(), &ids), []);
    }

    #[test]
    fn names_come_from_folders() {
        assert_eq!(title("sec-filings"), "Sec filings");
        assert_eq!(slug("Sec filings!"), "sec-filings");
        assert_eq!(slug("???"), "tab");
        let taken = ["a".to_string(), "a-2".to_string()];
        assert_eq!(free("a".to_string(), &taken), "a-3");
        let root = std::env::temp_dir().join("research_desk");
        assert_eq!(app_name(&root), "Research desk");
        assert_eq!(app_name(Path::new("/")), "Files");
    }
}
