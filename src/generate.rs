//! Zero configuration: the `widgets.json` a user would write for the files in `data/` (its
//! dashboard is `dashboard.rs`'s), used when the root has no `widgets.json` and written by `init`.
//!
//! | file | widget |
//! |---|---|
//! | `.csv` that parses, `.json` array of objects | table; `columnsDefs` from the inferred column types; a text column with few distinct values becomes a dropdown param whose options come from the data; a `YYYY-MM-DD` column becomes `start_<col>`/`end_<col>` date params |
//! | `.json` object with `data` and `layout` | Plotly chart (`x.dark.json`/`x.light.json` are its theme variants, not widgets) |
//! | `.md` that reads as text | markdown; a folder (below `data/`) whose notes all open with front matter is one newsfeed |
//! | `.html`, `.htm` that read as text | html |
//! | `.pdf` | pdf; a folder with two or more PDFs is one multi-file viewer |
//!
//! Widget ids (also their endpoints) are derived from paths only (`charts/perf.json` →
//! `charts_perf_json`, the notes folder `notes` → `notes_feed`), so they stay the same as files
//! come and go; paths that make the same id (`a b.csv`, `a&b.csv`) get `_2`, `_3`, ... in path
//! order, so no file is hidden. The output is ordinary widgets.json, parsed by [`Manifest::parse`] like a
//! user's, written in the front end's own spellings. A file that does not parse (or, for a
//! text type, is not UTF-8) gets no widget (its problem is listed at `/`) until it is fixed. Invariant: [`Generated`] regenerates when the listing of `data/` or a file's version
//! changes, looking at most once per [`RECHECK`].

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::cache::FileVersion;
use crate::data::Data;
use crate::files::Files;
use crate::manifest::Manifest;
use crate::note::{is_iso_date, parse_note};
use crate::table::Cell;

/// How often the listing of `data/` is compared with the one the manifest was generated from.
pub const RECHECK: Duration = Duration::from_secs(1);
/// A text column with at most this many distinct values (and some repeated) is a dropdown.
const DROPDOWN_MAX: usize = 20;
/// Rows looked at to infer a column's type and distinct values.
const SAMPLE_ROWS: usize = 10_000;

/// The generated manifest of a folder, regenerated when its files change. Requests within
/// [`RECHECK`] of the last look share a read lock; one request at a time looks again.
#[derive(Default)]
pub struct Generated {
    state: RwLock<Option<State>>,
    looking: Mutex<()>,
}

struct State {
    checked: Instant,
    listing: Vec<(String, FileVersion)>,
    manifest: Arc<Manifest>,
}

impl Generated {
    pub fn get(&self, files: &Files) -> Arc<Manifest> {
        let recent = |state: &Option<State>| {
            state
                .as_ref()
                .filter(|state| state.checked.elapsed() < RECHECK)
                .map(|state| Arc::clone(&state.manifest))
        };
        if let Some(manifest) = recent(&self.state.read().unwrap_or_else(|p| p.into_inner())) {
            return manifest;
        }
        let _looking = self.looking.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(manifest) = recent(&self.state.read().unwrap_or_else(|p| p.into_inner())) {
            return manifest;
        }
        let listing = listing(files);
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        if let Some(state) = state.as_mut()
            && state.listing == listing
        {
            state.checked = Instant::now();
            return Arc::clone(&state.manifest);
        }
        let text = serde_json::to_vec(&widgets(files)).unwrap_or_default();
        let manifest = Arc::new(Manifest::parse(Some(&text)).unwrap_or_else(|_| Manifest::empty()));
        *state = Some(State {
            checked: Instant::now(),
            listing,
            manifest: Arc::clone(&manifest),
        });
        manifest
    }
}

/// Every file under `data/` with its version.
fn listing(files: &Files) -> Vec<(String, FileVersion)> {
    files
        .dir
        .list("", true)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|relative| {
            let (_, meta) = files.dir.resolve(&relative)?;
            Some((relative, FileVersion::from_metadata(&meta)))
        })
        .collect()
}

/// The widgets for the files under `data/`, in path order, as widgets.json holds them.
pub fn widgets(files: &Files) -> Map<String, Value> {
    let all = files.dir.list("", true).unwrap_or_default();
    let mut folders: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for relative in &all {
        let folder = relative.rsplit_once('/').map_or("", |(folder, _)| folder);
        folders.entry(folder).or_default().push(relative);
    }
    let mut widgets = Map::new();
    for (folder, names) in folders {
        let with = |ext: &[&str]| -> Vec<&str> {
            names
                .iter()
                .copied()
                .filter(|n| ext.contains(&extension(n).as_str()))
                .collect()
        };
        let notes = with(&["md"]);
        let is_feed = !folder.is_empty()
            && !notes.is_empty()
            && notes
                .iter()
                .all(|n| files.text(*n).is_ok_and(|t| parse_note(&t).is_ok()));
        if is_feed {
            let id = free_id(&widgets, format!("{}_feed", id_of(folder)));
            widgets.insert(id.clone(), folder_widget(&id, folder, "newsfeed", "Notes"));
        }
        let pdfs = with(&["pdf"]);
        if pdfs.len() >= 2 {
            let id = free_id(&widgets, format!("{}_files", id_of(folder)));
            widgets.insert(id.clone(), files_widget(&id, folder));
        }
        for relative in names {
            let kind = match extension(relative).as_str() {
                "md" if !is_feed && files.text(relative).is_ok() => "markdown",
                "html" | "htm" if files.text(relative).is_ok() => "html",
                "pdf" if pdfs.len() < 2 => "pdf",
                "csv" if files.data(relative).is_ok() => "table",
                "json" => match json_kind(files, relative) {
                    Some(kind) => kind,
                    None => continue,
                },
                _ => continue,
            };
            let id = free_id(&widgets, id_of(relative));
            let mut widget = file_widget(&id, relative, kind);
            if kind == "table" {
                table_settings(files, relative, &id, &mut widget);
            }
            widgets.insert(id, Value::Object(widget));
        }
    }
    widgets
}

/// What a JSON file is: a table (an array of objects), a Plotly chart, or neither.
fn json_kind(files: &Files, relative: &str) -> Option<&'static str> {
    let theme_variant = [".dark.json", ".light.json"]
        .iter()
        .any(|suffix| relative.ends_with(suffix));
    match &*files.data(relative).ok()? {
        Data::Json { rows: Some(_), .. } => Some("table"),
        Data::Json { raw, rows: None } if !theme_variant => {
            let document: Value = serde_json::from_slice(raw).ok()?;
            (document["data"].is_array() && document["layout"].is_object()).then_some("chart")
        }
        _ => None,
    }
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

/// A widget id (and endpoint) from a path: lower case letters, digits and `_`; never beginning
/// with `http`, which Workspace would read as another site's address (`file_http_log_csv`).
fn id_of(path: &str) -> String {
    let mut id = String::new();
    for c in path.chars() {
        match c.to_ascii_lowercase() {
            c if c.is_ascii_alphanumeric() => id.push(c),
            _ if id.ends_with('_') => {}
            _ => id.push('_'),
        }
    }
    let id = id.trim_matches('_');
    match id.starts_with("http") {
        true => format!("file_{id}"),
        false => id.to_string(),
    }
}

/// A display name from a path's last segment: `q4-2024-letter.pdf` → `Q4 2024 letter`.
fn title(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path);
    let stem = last.rsplit_once('.').map_or(last, |(stem, _)| stem);
    let words = stem.replace(['-', '_'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => last.to_string(),
    }
}

/// `id`, or when a widget has it already (`a b.csv` and `a&b.csv` both make `a_b_csv`), the
/// first of `id_2`, `id_3`, ... that is free: no file is hidden by another's id.
fn free_id(widgets: &Map<String, Value>, id: String) -> String {
    match widgets.contains_key(&id) {
        false => id,
        true => (2..)
            .map(|n| format!("{id}_{n}"))
            .find(|free| !widgets.contains_key(free))
            .unwrap_or(id),
    }
}

fn file_widget(id: &str, relative: &str, kind: &str) -> Map<String, Value> {
    let described = match kind {
        "table" => "Table",
        "chart" => "Chart",
        "markdown" => "Markdown",
        "html" => "HTML page",
        _ => "PDF",
    };
    let json = json!({
        "name": title(relative),
        "description": format!("{described} from data/{relative}"),
        "type": kind,
        "endpoint": id,
        "gridData": {"w": 20, "h": 12},
        "backend": {"file": relative},
    });
    json.as_object().cloned().unwrap_or_default()
}

fn folder_widget(id: &str, folder: &str, kind: &str, described: &str) -> Value {
    json!({
        "name": title(folder),
        "description": format!("{described} in data/{folder}"),
        "type": kind,
        "endpoint": id,
        "gridData": {"w": 20, "h": 16},
        "backend": {"folder": folder},
    })
}

fn files_widget(id: &str, folder: &str) -> Value {
    json!({
        "name": title(folder),
        "description": format!("Documents in data/{folder}"),
        "type": "multi_file_viewer",
        "endpoint": id,
        "gridData": {"w": 20, "h": 16},
        "params": [{"paramName": "filenames", "type": "endpoint", "label": "Files",
                    "optionsEndpoint": format!("{id}/files"), "roles": ["fileSelector"],
                    "multiSelect": true, "show": false, "value": []}],
        "backend": {"folder": folder},
    })
}

/// What the sampled cells of a column look like.
#[derive(Default)]
struct Profile {
    numbers: usize,
    booleans: usize,
    dates: usize,
    texts: usize,
    /// Distinct text values, up to one more than [`DROPDOWN_MAX`].
    distinct: HashSet<String>,
}

impl Profile {
    fn add(&mut self, cell: Cell<'_>) {
        match cell {
            Cell::Null => {}
            Cell::Bool(_) => self.booleans += 1,
            Cell::Int(_) | Cell::Float(_) => self.numbers += 1,
            Cell::Text(text) => {
                if is_iso_date(text) {
                    self.dates += 1;
                } else {
                    self.texts += 1;
                }
                if self.distinct.len() <= DROPDOWN_MAX {
                    self.distinct.insert(text.to_string());
                }
            }
        }
    }

    fn cell_data_type(&self) -> &'static str {
        match (self.numbers, self.booleans, self.dates, self.texts) {
            (_, 0, 0, 0) if self.numbers > 0 => "number",
            (0, _, 0, 0) if self.booleans > 0 => "boolean",
            (0, 0, _, 0) if self.dates > 0 => "date",
            _ => "text",
        }
    }

    /// A text column with few distinct values, some of them repeated.
    fn is_dropdown(&self) -> bool {
        let texts = self.texts + self.dates;
        self.cell_data_type() == "text"
            && self.distinct.len() <= DROPDOWN_MAX
            && self.distinct.len() < texts
    }
}

/// The columns of a table file with a profile of each.
fn profiles(files: &Files, relative: &str) -> Vec<(String, Profile)> {
    let Ok(data) = files.data(relative) else {
        return Vec::new();
    };
    match &*data {
        Data::Table(table) => table
            .names()
            .iter()
            .enumerate()
            .map(|(column, name)| {
                let mut profile = Profile::default();
                for row in 0..table.rows().min(SAMPLE_ROWS) {
                    profile.add(table.cell(row, column));
                }
                (name.clone(), profile)
            })
            .collect(),
        Data::Json {
            rows: Some((columns, items)),
            ..
        } => columns
            .iter()
            .map(|name| {
                let mut profile = Profile::default();
                for item in items.iter().take(SAMPLE_ROWS) {
                    profile.add(match &item[name] {
                        Value::Null => Cell::Null,
                        Value::Bool(b) => Cell::Bool(*b),
                        Value::Number(n) => Cell::Float(n.as_f64().unwrap_or_default()),
                        Value::String(text) => Cell::Text(text),
                        _ => Cell::Text(""),
                    });
                }
                (name.clone(), profile)
            })
            .collect(),
        Data::Json { rows: None, .. } => Vec::new(),
    }
}

/// A table widget's `columnsDefs`, dropdowns for low-cardinality text columns (options from
/// the data) and date-range params for date columns.
fn table_settings(files: &Files, relative: &str, id: &str, widget: &mut Map<String, Value>) {
    let mut columns = Vec::new();
    let mut params = Vec::new();
    let mut options = Map::new();
    for (name, profile) in profiles(files, relative) {
        let kind = profile.cell_data_type();
        columns.push(json!({"field": name, "headerName": title(&name), "cellDataType": kind}));
        if kind == "date" {
            for (prefix, label) in [("start", "From"), ("end", "To")] {
                params.push(
                    json!({"paramName": format!("{prefix}_{name}"), "type": "date",
                                   "label": format!("{label} ({name})"), "value": null}),
                );
            }
        } else if profile.is_dropdown() {
            params.push(
                json!({"paramName": name, "type": "endpoint", "label": title(&name),
                               "optionsEndpoint": format!("{id}/options/{}", id_of(&name)),
                               "value": ""}),
            );
            options.insert(name.clone(), json!({"file": relative, "column": name}));
        }
    }
    if !params.is_empty() {
        widget.insert("params".into(), Value::Array(params));
    }
    widget.insert("data".into(), json!({"table": {"columnsDefs": columns}}));
    if !options.is_empty() {
        widget["backend"]["options"] = Value::Object(options);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_titles_come_from_paths() {
        assert_eq!(id_of("charts/Perf 2024.json"), "charts_perf_2024_json");
        assert_eq!(id_of("--a--b"), "a_b");
        assert_eq!(id_of("HTTP-log.csv"), "file_http_log_csv");
        assert_eq!(title("filings/q4-2024_letter.pdf"), "Q4 2024 letter");
        assert_eq!(title("notes"), "Notes");
    }

    #[test]
    fn profiles_type_columns_and_find_dropdowns() {
        let profile = |cells: &[Cell]| {
            let mut p = Profile::default();
            cells.iter().for_each(|c| p.add(*c));
            p
        };
        let numbers = profile(&[Cell::Int(1), Cell::Null, Cell::Float(2.5)]);
        assert_eq!(numbers.cell_data_type(), "number");
        let dates = profile(&[Cell::Text("2024-01-02"), Cell::Text("2024-01-03")]);
        assert_eq!(dates.cell_data_type(), "date");
        assert!(!dates.is_dropdown());
        let sectors = profile(&[Cell::Text("Tech"), Cell::Text("Energy"), Cell::Text("Tech")]);
        assert!(sectors.is_dropdown());
        let unique = profile(&[Cell::Text("a"), Cell::Text("b")]);
        assert!(!unique.is_dropdown(), "no value repeats: not a category");
        let mixed = profile(&[Cell::Text("x"), Cell::Bool(true)]);
        assert_eq!(mixed.cell_data_type(), "text");
        assert_eq!(profile(&[Cell::Bool(false)]).cell_data_type(), "boolean");
    }
}
