//! Zero configuration: the `widgets.json` (and an `apps.json` dashboard) a user would write for
//! the files in `data/`, used when the root has no `widgets.json` and written by `init`.
//!
//! | file | widget |
//! |---|---|
//! | a table file that parses (`.csv`, `.tsv`, `.psv`, `.jsonl`, `.parquet`, compressed ones, ...; see [`crate::formats`]), `.json` array of objects | table; `columnsDefs` from the inferred column types; a text column with few distinct values becomes a dropdown param whose options come from the data; a `YYYY-MM-DD` column becomes `start_<col>`/`end_<col>` date params |
//! | `.json` object with `data` and `layout` | Plotly chart (`x.dark.json`/`x.light.json` are its theme variants, not widgets) |
//! | `.md` that reads as text | markdown; a folder (below `data/`) whose notes all open with front matter is one newsfeed |
//! | `.html`, `.htm` that read as text | html |
//! | `.pdf` | pdf; a folder with two or more PDFs is one multi-file viewer |
//! | `.xlsx`, `.xlsm`, `.xls`, `.ods` | one table per sheet that has cells (`book_xlsx_prices`), `backend.sheet` naming it |
//!
//! Widget ids (also their endpoints) are derived from paths only (`charts/perf.json` →
//! `charts_perf_json`, the notes folder `notes` → `notes_feed`), so they stay the same as files
//! come and go. The output is ordinary widgets.json, parsed by [`Manifest::parse`] like a
//! user's, written in the front end's own spellings. A file that does not parse (or, for a
//! text type, is not UTF-8) gets no widget (its problem is listed at `/`) until it is fixed. Invariant: [`Generated`] regenerates when the listing of `data/` or a file's version
//! changes, looking at most once per [`RECHECK`].

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::cache::FileVersion;
use crate::data::Data;
use crate::files::{DataFile, Files};
use crate::formats::{self, Format, Reading, Sheet};
use crate::manifest::Manifest;
use crate::table::Cell;
use crate::validate::GRID_COLUMNS;
use crate::widgets::newsfeed::{is_iso_date, parse_note};

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
            let widget = folder_widget(folder, "newsfeed", "Notes");
            widgets.insert(format!("{}_feed", id_of(folder)), widget);
        }
        let pdfs = with(&["pdf"]);
        if pdfs.len() >= 2 {
            let id = format!("{}_files", id_of(folder));
            widgets.insert(id.clone(), files_widget(&id, folder));
        }
        for relative in names {
            let kind = match extension(relative).as_str() {
                "md" if !is_feed && files.text(relative).is_ok() => "markdown",
                "html" | "htm" if files.text(relative).is_ok() => "html",
                "pdf" if pdfs.len() < 2 => "pdf",
                "json" => match json_kind(files, relative) {
                    Some(kind) => kind,
                    None => continue,
                },
                _ if formats::of(relative).0 == Format::Workbook => {
                    sheet_widgets(files, relative, &mut widgets);
                    continue;
                }
                _ if formats::is_table_file(relative) && files.data(relative).is_ok() => "table",
                _ => continue,
            };
            let mut widget = file_widget(relative, kind);
            if kind == "table" {
                table_settings(files, relative, relative, &id_of(relative), &mut widget);
            }
            widgets.insert(id_of(relative), Value::Object(widget));
        }
    }
    widgets
}

/// One table widget per sheet of a workbook that has cells, ids from the file and the sheet.
fn sheet_widgets(files: &Files, relative: &str, widgets: &mut Map<String, Value>) {
    let Ok(bytes) = files.bytes(relative) else {
        return;
    };
    let Ok(sheets) = formats::excel::sheet_names(relative, bytes.to_vec(), &files.caps) else {
        return;
    };
    for sheet in sheets {
        let Ok(found) = files.find(relative) else {
            return;
        };
        let found = found.read_as(Reading {
            sheet: Some(Sheet::Name(sheet.clone())),
            ..Reading::default()
        });
        let has_cells = files
            .data(&found)
            .is_ok_and(|data| matches!(&*data, Data::Table(table) if !table.names().is_empty()));
        if !has_cells {
            continue;
        }
        let id = id_of(&format!("{relative}_{sheet}"));
        let mut widget = file_widget(relative, "table");
        widget.insert(
            "name".into(),
            json!(format!("{} – {sheet}", title(relative))),
        );
        widget.insert("endpoint".into(), json!(id));
        widget["backend"]["sheet"] = json!(sheet);
        table_settings(files, &found, relative, &id, &mut widget);
        widgets.insert(id, Value::Object(widget));
    }
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

fn file_widget(relative: &str, kind: &str) -> Map<String, Value> {
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
        "endpoint": id_of(relative),
        "gridData": {"w": 20, "h": 12},
        "backend": {"file": relative},
    });
    json.as_object().cloned().unwrap_or_default()
}

fn folder_widget(folder: &str, kind: &str, described: &str) -> Value {
    json!({
        "name": title(folder),
        "description": format!("{described} in data/{folder}"),
        "type": kind,
        "endpoint": format!("{}_feed", id_of(folder)),
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
fn profiles(files: &Files, file: &(impl DataFile + ?Sized)) -> Vec<(String, Profile)> {
    let Ok(data) = files.data(file) else {
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
/// the data) and date-range params for date columns. `file` is read (it may be a workbook's
/// sheet); the options endpoints read `relative`.
fn table_settings(
    files: &Files,
    file: &(impl DataFile + ?Sized),
    relative: &str,
    id: &str,
    widget: &mut Map<String, Value>,
) {
    let mut columns = Vec::new();
    let mut params = Vec::new();
    let mut options = Map::new();
    // An options endpoint reads a file's default sheet, so a sheet's widget has no dropdowns.
    let dropdowns = widget["backend"].get("sheet").is_none();
    for (name, profile) in profiles(files, file) {
        let kind = profile.cell_data_type();
        columns.push(json!({"field": name, "headerName": title(&name), "cellDataType": kind}));
        if kind == "date" {
            for (prefix, label) in [("start", "From"), ("end", "To")] {
                params.push(
                    json!({"paramName": format!("{prefix}_{name}"), "type": "date",
                                   "label": format!("{label} ({name})"), "value": null}),
                );
            }
        } else if profile.is_dropdown() && dropdowns {
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

/// An `apps.json` with one app whose single tab lays out every widget, two 20-column lanes
/// filled top down, each widget in the lane that ends higher: no overlaps, all within the grid.
pub fn apps(widgets: &Map<String, Value>) -> Value {
    let lane_width = GRID_COLUMNS / 2;
    let mut bottoms = [2u64, 2u64];
    let layout: Vec<Value> = widgets
        .iter()
        .map(|(id, widget)| {
            let h = widget["gridData"]["h"].as_u64().unwrap_or(12);
            let lane = usize::from(bottoms[1] < bottoms[0]);
            let item = json!({"i": id, "x": lane as u64 * lane_width, "y": bottoms[lane],
                              "w": lane_width, "h": h});
            bottoms[lane] += h;
            item
        })
        .collect();
    json!([{
        "name": "Files",
        "description": "Every file in data/, as generated by openbb-files init",
        "img": "", "img_dark": "", "img_light": "",
        "allowCustomization": true,
        "tabs": {"files": {"id": "files", "name": "Files", "layout": layout}},
        "groups": [],
        "prompts": []
    }])
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

    #[test]
    fn apps_lay_widgets_out_without_overlaps() {
        let widgets: Map<String, Value> = [("a", 12), ("b", 5), ("c", 16), ("d", 12)]
            .iter()
            .map(|(id, h)| (id.to_string(), json!({"gridData": {"w": 20, "h": h}})))
            .collect();
        let apps = apps(&widgets);
        let layout = apps[0]["tabs"]["files"]["layout"].as_array().unwrap();
        let boxes: Vec<(u64, u64, u64, u64)> = layout
            .iter()
            .map(|i| {
                let n = |k: &str| i[k].as_u64().unwrap();
                (n("x"), n("y"), n("w"), n("h"))
            })
            .collect();
        assert_eq!(
            boxes,
            [
                (0, 2, 20, 12),
                (20, 2, 20, 5),
                (20, 7, 20, 16),
                (0, 14, 20, 12)
            ]
        );
        for (i, a) in boxes.iter().enumerate() {
            assert!(a.0 + a.2 <= GRID_COLUMNS);
            for b in &boxes[i + 1..] {
                let apart =
                    a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
    }
}
