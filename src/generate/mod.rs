//! Zero configuration: the `widgets.json` a user would write for the files in `data/`, read as
//! an analyst lays a desk out (its dashboard is `dashboard.rs`'s); used when the root has no
//! `widgets.json` and written by `init`.
//!
//! | file | widget |
//! |---|---|
//! | a table file that parses (`.csv`, `.tsv`, `.psv`, `.jsonl`, `.parquet`, compressed ones, ...; see [`crate::formats`]), `.json` array of objects | table; `columnsDefs` from the inferred column types; a text column with few distinct values becomes a dropdown param whose options come from the data, defaulting to the first (so the first load is small); a `YYYY-MM-DD` column becomes `start_<col>`/`end_<col>` date params |
//! | `.json` array of `{label, value, delta?}` (or one such object), some with a delta or a number | metric (text-only `{label, value}` pairs are a dropdown's options: a table) |
//! | `.json` array of articles (`title`, `date`, and some of `author`, `excerpt`, `body`) | newsfeed |
//! | `.json` object holding exactly one array of flat objects (`results`, `data.rows`) | table with `data.dataKey` naming it |
//! | `.json` object with `data` and `layout` | Plotly chart (`x.dark.json`/`x.light.json` are its theme variants, not widgets) |
//! | `.md` that reads as text | markdown; a folder (below `data/`) whose notes all open with front matter is one newsfeed |
//! | `.html`, `.htm` that read as text | html |
//! | `.pdf` | pdf; a folder with two or more PDFs is one multi-file viewer |
//! | `.xlsx`, `.xlsm`, `.xls`, `.ods` | one table per sheet that has cells (`book_xlsx_prices`), `backend.sheet` naming it; date ranges and dropdowns as for any table (the options read the same sheet) |
//! | two or more files of one kind in a folder below `data/`, alike but for their stem | one widget reading `folder/{param}.ext`, its param listing the stems (`pattern.rs`) |
//!
//! By job: `shapes.rs` what a JSON file is, `table.rs` a table's columns and params,
//! `pattern.rs` a folder of alike files; here, the walk over `data/` ([`generate`]) and ids.
//! Widget ids (also their endpoints) are derived from paths only (`charts/perf.json` →
//! `charts_perf_json`, the notes folder `notes` → `notes_feed`, `reports/{ticker}.md` →
//! `reports_ticker_md`), so they stay the same as files come and go; paths that make the same
//! id (`a b.csv`, `a&b.csv`) get `_2`, `_3`, ... in path order, so no file is hidden. The
//! output is ordinary widgets.json, parsed by [`Manifest::parse`] like a user's, written in the
//! front end's own spellings. A file that does not parse (or, for a text type, is not UTF-8)
//! gets no widget (its problem is listed at `/`) until it is fixed; a JSON file that parses but
//! fits no widget is listed at `/` (and by `check`) with the reason. Invariant: [`Generated`]
//! regenerates when the listing of `data/` or a file's version changes, looking at most once
//! per [`RECHECK`].

mod pattern;
mod shapes;
mod table;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::cache::FileVersion;
use crate::data::{Data, keys_of};
use crate::files::Files;
use crate::formats::{self, Format, Reading, Sheet};
use crate::manifest::Manifest;
use crate::note::parse_note;
use crate::validate::Problem;
use shapes::Shape;
use table::{Filters, Profile};

/// How often the listing of `data/` is compared with the one the manifest was generated from.
pub const RECHECK: Duration = Duration::from_secs(1);

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
        let generated = generate(files);
        let text = serde_json::to_vec(&generated.widgets).unwrap_or_default();
        let mut manifest = Manifest::parse(Some(&text)).unwrap_or_else(|_| Manifest::empty());
        manifest.warnings.extend(generated.left_out);
        let manifest = Arc::new(manifest);
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

/// What zero configuration makes of `data/`.
pub struct Generation {
    /// The widgets, in path order, as widgets.json holds them.
    pub widgets: Map<String, Value>,
    /// Files that parse but fit no widget, each a warning naming the file and the reason.
    pub left_out: Vec<Problem>,
}

/// The widgets for the files under `data/`, in path order, as widgets.json holds them.
pub fn widgets(files: &Files) -> Map<String, Value> {
    generate(files).widgets
}

/// The widgets for the files under `data/` (folder by folder, in path order), and the files
/// that fit none.
pub fn generate(files: &Files) -> Generation {
    let all = files.dir.list("", true).unwrap_or_default();
    let mut folders: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for relative in &all {
        let folder = relative.rsplit_once('/').map_or("", |(folder, _)| folder);
        folders.entry(folder).or_default().push(relative);
    }
    let mut generation = Generation {
        widgets: Map::new(),
        left_out: Vec::new(),
    };
    for (folder, names) in folders {
        folder_widgets(files, folder, &names, &mut generation);
    }
    generation
}

/// The widget one file makes on its own.
struct Made {
    kind: &'static str,
    /// For rows inside a JSON document: their dotted path in it, and their columns.
    data_key: Option<(String, Vec<(String, Profile)>)>,
}

/// Adds the widgets of the files `names` of `folder` (`""` for `data/` itself).
fn folder_widgets(files: &Files, folder: &str, names: &[&str], generation: &mut Generation) {
    let widgets = &mut generation.widgets;
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
        let id = free_id(widgets, format!("{}_feed", id_of(folder)));
        widgets.insert(id.clone(), folder_widget(&id, folder, "newsfeed", "Notes"));
    }
    let pdfs = with(&["pdf"]);
    if pdfs.len() >= 2 {
        let id = free_id(widgets, format!("{}_files", id_of(folder)));
        widgets.insert(id.clone(), files_widget(&id, folder));
    }
    let mut made = Vec::new();
    for &relative in names {
        let kind = match extension(relative).as_str() {
            "md" if !is_feed && files.text(relative).is_ok() => "markdown",
            "html" | "htm" if files.text(relative).is_ok() => "html",
            "pdf" if pdfs.len() < 2 => "pdf",
            "json" => match json_widget(files, relative) {
                Ok(Some(json)) => {
                    made.push((relative, json));
                    continue;
                }
                Ok(None) => continue,
                Err(reason) => {
                    let shown = files.dir.display(relative);
                    let line = format!("{shown}: warning: no widget made: {reason}");
                    generation.left_out.push(Problem::warning(line));
                    continue;
                }
            },
            _ if formats::of(relative).0 == Format::Workbook => {
                sheet_widgets(files, relative, widgets);
                continue;
            }
            _ if formats::is_table_file(relative) && files.data(relative).is_ok() => "table",
            _ => continue,
        };
        let data_key = None;
        made.push((relative, Made { kind, data_key }));
    }
    let mut alone: Vec<(&str, Made)> = Vec::new();
    let mut params: Vec<(String, Vec<&str>)> = Vec::new();
    for group in alike(files, folder, made) {
        match group.len() {
            1 => alone.extend(group),
            _ => pattern_widget(files, folder, group, &mut params, widgets),
        }
    }
    alone.sort_by_key(|(relative, _)| *relative);
    for (relative, made) in alone {
        let id = free_id(widgets, id_of(relative));
        let mut widget = file_widget(&id, relative, made.kind);
        table_columns(
            files,
            made,
            relative,
            Filters::All(relative),
            &id,
            &mut widget,
        );
        widgets.insert(id, Value::Object(widget));
    }
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
        let id = free_id(widgets, id_of(&format!("{relative}_{sheet}")));
        let mut widget = file_widget(&id, relative, "table");
        widget.insert(
            "name".into(),
            json!(format!("{} – {sheet}", title(relative))),
        );
        widget["backend"]["sheet"] = json!(sheet);
        let columns = table::file_profiles(files, &found);
        // Its dropdowns' options read the same sheet (an options file that is the widget's own
        // file is read as the widget reads it).
        table::table_settings(columns, Filters::All(relative), &id, &mut widget);
        widgets.insert(id, Value::Object(widget));
    }
}

/// The widget a JSON file makes: `None` for a chart's theme variant, the reason when it fits
/// none.
fn json_widget(files: &Files, relative: &str) -> Result<Option<Made>, String> {
    let Ok(data) = files.data(relative) else {
        return Ok(None);
    };
    let kind = match shapes::shape(relative, &data) {
        Shape::Table => "table",
        Shape::Metric => "metric",
        Shape::Newsfeed => "newsfeed",
        Shape::Chart => "chart",
        Shape::ThemeVariant => return Ok(None),
        Shape::Nested { key, items } => {
            let profiles = table::item_profiles(&keys_of(&items), &items);
            return Ok(Some(Made {
                kind: "table",
                data_key: Some((key, profiles)),
            }));
        }
        Shape::Unfit(reason) => return Err(reason),
    };
    Ok(Some(Made {
        kind,
        data_key: None,
    }))
}

/// The files of `made` grouped by what makes them alike: the same extension and widget type
/// (the same columns, for tables). Only files below `data/` group (its top level is no set of
/// alike files), and only by stems a param can carry.
fn alike<'n>(files: &Files, folder: &str, made: Vec<(&'n str, Made)>) -> Vec<Vec<(&'n str, Made)>> {
    let mut groups: Vec<(String, Vec<(&str, Made)>)> = Vec::new();
    for (relative, made) in made {
        let stem = stem_of(relative);
        let key = match (&made.data_key, made.kind) {
            _ if folder.is_empty() || stem.is_empty() || stem.contains(['{', '}']) => {
                format!("alone {relative}")
            }
            (Some((key, columns)), _) => format!("{key} {:?}", names(columns)),
            (None, "table") => format!("{:?}", names(&table::file_profiles(files, relative))),
            (None, kind) => kind.to_string(),
        };
        let key = format!(
            "{}.{key}",
            relative.rsplit_once('.').map_or("", |(_, ext)| ext)
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push((relative, made)),
            None => groups.push((key, vec![(relative, made)])),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

/// A file's name without its folder and extension.
fn stem_of(relative: &str) -> &str {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    name.rsplit_once('.').map_or("", |(stem, _)| stem)
}

/// Adds the one widget for `group`, files of `folder` alike but for their stems. `params`
/// holds the params (and their stems) of the folder's widgets made so far: a param of the same
/// name offering other stems (`f00.csv`… beside `f01.md`…) takes the extension after its name
/// (then a number, until it is free), since the generated dashboard links the params of one
/// name (one picked file each).
fn pattern_widget<'a>(
    files: &Files,
    folder: &str,
    group: Vec<(&'a str, Made)>,
    params: &mut Vec<(String, Vec<&'a str>)>,
    widgets: &mut Map<String, Value>,
) {
    let stems: Vec<&str> = group
        .iter()
        .map(|(relative, _)| stem_of(relative))
        .collect();
    let Some((first, made)) = group.into_iter().next() else {
        return;
    };
    let extension = first.rsplit_once('.').map_or("", |(_, ext)| ext);
    let named = pattern::param_name(folder, &stems);
    let clashes = |param: &str| {
        params
            .iter()
            .any(|(taken, offered)| taken == param && *offered != stems)
    };
    let mut param = named.clone();
    for n in 1.. {
        if !clashes(&param) {
            break;
        }
        param = match n {
            1 => id_of(&format!("{named}_{extension}")),
            n => id_of(&format!("{named}_{extension}_{n}")),
        };
    }
    params.push((param.clone(), stems.clone()));
    let id = free_id(widgets, id_of(&format!("{folder}/{param}.{extension}")));
    let described = described(made.kind);
    let mut widget = pattern::widget(&id, made.kind, described, folder, extension, &param, &stems);
    table_columns(files, made, first, Filters::Dates, &id, &mut widget);
    widgets.insert(id, Value::Object(widget));
}

/// Adds a table's `columnsDefs` and params to `widget` (id `id`), when `made` is a table: from
/// the rows inside its JSON document (`data.dataKey`, no params), else from the rows of
/// `relative` with the params `filters` allows.
fn table_columns(
    files: &Files,
    made: Made,
    relative: &str,
    filters: Filters<'_>,
    id: &str,
    widget: &mut Map<String, Value>,
) {
    match (made.kind, made.data_key) {
        (_, Some((key, columns))) => {
            widget.insert("data".into(), json!({"dataKey": key}));
            table::table_settings(columns, Filters::None, id, widget);
        }
        ("table", None) => {
            let columns = table::file_profiles(files, relative);
            table::table_settings(columns, filters, id, widget);
        }
        _ => {}
    }
}

/// The names of `columns`.
fn names(columns: &[(String, Profile)]) -> Vec<&str> {
    columns.iter().map(|(name, _)| name.as_str()).collect()
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

/// How a widget of type `kind` is described: `{described} from data/...`.
fn described(kind: &str) -> &'static str {
    match kind {
        "table" => "Table",
        "chart" => "Chart",
        "markdown" => "Markdown",
        "html" => "HTML page",
        "metric" => "Metrics",
        "newsfeed" => "Articles",
        _ => "PDF",
    }
}

/// A generated widget (id `id`, type `kind`): named for `path`, the file or folder it shows,
/// described by `description`, `height` rows high, then the fields of `rest` (its `params`, if
/// any, and `backend`) in their order. Every widget `generate` makes is built here.
fn generated_widget(
    id: &str,
    kind: &str,
    path: &str,
    description: String,
    height: u64,
    rest: Value,
) -> Map<String, Value> {
    let mut widget = Map::new();
    widget.insert("name".into(), title(path).into());
    widget.insert("description".into(), description.into());
    widget.insert("type".into(), kind.into());
    widget.insert("endpoint".into(), id.into());
    widget.insert("gridData".into(), json!({"w": 20, "h": height}));
    if let Value::Object(rest) = rest {
        widget.extend(rest);
    }
    widget
}

fn file_widget(id: &str, relative: &str, kind: &str) -> Map<String, Value> {
    let described = described(kind);
    let description = format!("{described} from data/{relative}");
    let backend = json!({"backend": {"file": relative}});
    generated_widget(id, kind, relative, description, 12, backend)
}

fn folder_widget(id: &str, folder: &str, kind: &str, described: &str) -> Value {
    let description = format!("{described} in data/{folder}");
    let backend = json!({"backend": {"folder": folder}});
    Value::Object(generated_widget(id, kind, folder, description, 16, backend))
}

fn files_widget(id: &str, folder: &str) -> Value {
    let rest = json!({
        "params": [{"paramName": "filenames", "type": "endpoint", "label": "Files",
                    "optionsEndpoint": format!("{id}/files"), "roles": ["fileSelector"],
                    "multiSelect": true, "show": false, "value": []}],
        "backend": {"folder": folder},
    });
    let description = format!("Documents in data/{folder}");
    Value::Object(generated_widget(
        id,
        "multi_file_viewer",
        folder,
        description,
        16,
        rest,
    ))
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
}
