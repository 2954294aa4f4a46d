//! `backend.append`: the file under `data/` that a table or live_grid widget adds rows to from
//! a Workspace form, or the folder a newsfeed adds Markdown notes to (`writes/` does the
//! writing), and the `form` params that Workspace shows for it.
//!
//! ```json
//! "backend": {"append": {"file": "ideas.csv", "key": "id", "created_at": "created_at",
//!   "submitted_by": "analyst",
//!   "columns": [{"name": "id", "type": "text"},
//!               {"name": "side", "type": "text", "options": ["buy", "sell"]},
//!               {"name": "size", "type": "number"}]}}
//! ```
//!
//! A newsfeed's `"append": {"folder": "journal", "columns": [...]}` writes one note per POST:
//! its inputs are `title` (required), `body` and `author`, then the extra front-matter
//! `columns`; the server fills `date` (and the `submitted_by` field, when named); there is no
//! key (a note is never replaced).
//!
//! The widget reads the same file (folder) unless its `backend` names another. Invariants: the
//! file is a safe path inside `data/` ending in `.csv`, `.jsonl` or `.ndjson` (the folder, a
//! safe path), fixed here (no `{param}`: a request never chooses the file); column names are
//! unique and the key (when given) is one of them; the server-filled columns (`created_at`,
//! the time, and `submitted_by`, the id of the key the write came with) are not form inputs
//! and differ from every column; a note's extra column names are plain front-matter keys.
//! Unless the entry already has a `form` param, it gets one that adds a row (POST to the
//! widget's endpoint) and, with a key, one that replaces the row of that key (PUT).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::backend::Refusal;
use crate::paths::is_safe_segment;

/// The name of the button input of the generated forms: Workspace sends it as `true`.
pub const FORM_BUTTON: &str = "submit";

/// Where and how a widget's form adds rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Append {
    /// The file under `data/` (for [`Format::Notes`], the folder).
    pub file: String,
    pub format: Format,
    /// The columns a submission fills, in the order of the form.
    pub columns: Vec<Column>,
    /// The column whose value names a row: unique on POST, the row a PUT replaces.
    pub key: Option<String>,
    /// The column the server fills with the time of the write (RFC 3339, UTC).
    pub created_at: Option<String>,
    /// The column the server fills with the id of the key the write came with (`auth.rs`;
    /// empty on a server taking writes without keys).
    pub submitted_by: Option<String>,
}

/// How the file holds rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header line, then one RFC 4180 record per row.
    Csv,
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    JsonLines,
    /// One Markdown note per row, a new file in the folder: the body column after a block of
    /// front matter holding the others (`note.rs` reads it back).
    Notes,
}

/// A note's inputs: its title (required), body and author; the server fills its date.
pub const NOTE_TITLE: &str = "title";
pub const NOTE_BODY: &str = "body";
const NOTE_AUTHOR: &str = "author";
const NOTE_DATE: &str = "date";

/// One column a form fills.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: ColumnType,
    /// The values allowed (a dropdown in the form); empty: any value of the type.
    #[serde(default)]
    pub options: Vec<String>,
    /// Whether a submission must fill it (a note's title; not a setting).
    #[serde(skip)]
    pub required: bool,
}

/// What a column holds, as the form input's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    #[default]
    Text,
    Number,
    Date,
    Boolean,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Number => "number",
            ColumnType::Date => "date",
            ColumnType::Boolean => "boolean",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendSpec {
    file: Option<String>,
    folder: Option<String>,
    #[serde(default)]
    columns: Vec<Column>,
    key: Option<String>,
    created_at: Option<String>,
    submitted_by: Option<String>,
}

const FIELD: &str = "backend.append";

/// `backend.append` of a newsfeed (`for_newsfeed`: a folder of notes) or a table, checked.
pub(super) fn parse(spec: Value, for_newsfeed: bool) -> Result<Append, Refusal> {
    let spec: AppendSpec = serde_json::from_value(spec).map_err(|err| (FIELD, err.to_string()))?;
    let (name, path) = match (&spec.file, &spec.folder, for_newsfeed) {
        (Some(file), None, false) => ("file", file),
        (None, Some(folder), true) => ("folder", folder),
        _ => {
            return Err((
                FIELD,
                "takes a \"file\" on a table or live_grid (rows), a \"folder\" on a newsfeed \
                 (notes)"
                    .into(),
            ));
        }
    };
    if !path.split('/').all(is_safe_segment) || path.contains(['{', '}']) {
        return Err((
            FIELD,
            format!(
                "{name} '{path}' must be a fixed relative path inside data/ without '..' or \
                 dotfiles"
            ),
        ));
    }
    let path = path.clone();
    if for_newsfeed {
        return notes(path, spec);
    }
    let file = path;
    let lower = file.to_ascii_lowercase();
    let format = if lower.ends_with(".csv") {
        Format::Csv
    } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        Format::JsonLines
    } else {
        return Err((
            FIELD,
            format!("file '{file}': rows are added to .csv, .jsonl or .ndjson files"),
        ));
    };
    if spec.columns.is_empty() {
        return Err((FIELD, "columns: name at least one column".into()));
    }
    check_names(&spec.columns, &[&spec.created_at, &spec.submitted_by])?;
    if let Some(key) = &spec.key
        && !spec.columns.iter().any(|c| &c.name == key)
    {
        return Err((FIELD, format!("key '{key}' is not one of the columns")));
    }
    Ok(Append {
        file,
        format,
        columns: spec.columns,
        key: spec.key,
        created_at: spec.created_at,
        submitted_by: spec.submitted_by,
    })
}

/// A newsfeed's `folder` of notes: the note's own inputs, then the extra front-matter columns.
fn notes(folder: String, spec: AppendSpec) -> Result<Append, Refusal> {
    if spec.key.is_some() || spec.created_at.is_some() {
        return Err((
            FIELD,
            "a note has no key and its date is filled by the server: drop \"key\" and \
             \"created_at\""
                .into(),
        ));
    }
    let is_plain = |name: &str| {
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    let names = spec.columns.iter().map(|c| &c.name);
    if let Some(name) = names.chain(&spec.submitted_by).find(|name| !is_plain(name)) {
        return Err((
            FIELD,
            format!("columns: '{name}': a note's field is named with a-z, 0-9 and '_'"),
        ));
    }
    let text = |name: &str, required| Column {
        name: name.into(),
        kind: ColumnType::Text,
        options: Vec::new(),
        required,
    };
    let mut columns = vec![
        text(NOTE_TITLE, true),
        text(NOTE_BODY, false),
        text(NOTE_AUTHOR, false),
    ];
    columns.extend(spec.columns);
    let date = Some(NOTE_DATE.to_string());
    check_names(&columns, &[&date, &spec.submitted_by])?;
    Ok(Append {
        file: folder,
        format: Format::Notes,
        columns,
        key: None,
        created_at: date,
        submitted_by: spec.submitted_by,
    })
}

/// Refuses an empty column name, one taken twice (or by a column the server fills, itself
/// named at most once) or the button's.
fn check_names(columns: &[Column], server_filled: &[&Option<String>]) -> Result<(), Refusal> {
    let mut names: Vec<&str> = Vec::new();
    let server_filled = server_filled.iter().filter_map(|name| name.as_deref());
    for name in server_filled.chain(columns.iter().map(|c| c.name.as_str())) {
        if name.is_empty() || name == FORM_BUTTON || names.contains(&name) {
            return Err((
                FIELD,
                format!(
                    "columns: '{name}' is empty, taken twice (by created_at, submitted_by or a \
                     column) or the form's button ('{FORM_BUTTON}')"
                ),
            ));
        }
        names.push(name);
    }
    Ok(())
}

/// Adds the forms of `append` to the entry's params (posting to `endpoint`), unless the entry
/// has a `form` param of its own.
pub(super) fn add_forms(entry: &mut Map<String, Value>, endpoint: &str, append: &Append) {
    let is_form = |p: &Value| p.get("type").and_then(Value::as_str) == Some("form");
    let params = entry
        .entry("params")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(params) = params else { return };
    if params.iter().flat_map(params_in).any(is_form) {
        return;
    }
    let in_rows = params.first().is_some_and(Value::is_array);
    let add = match append.format {
        Format::Notes => "Add a note",
        Format::Csv | Format::JsonLines => "Add a row",
    };
    let mut forms = vec![form(append, endpoint, "POST", add, "Add")];
    if append.key.is_some() {
        forms.push(form(
            append,
            endpoint,
            "PUT",
            "Replace a row (by key)",
            "Replace",
        ));
    }
    for form in forms {
        params.push(if in_rows {
            Value::Array(vec![form])
        } else {
            form
        });
    }
}

/// The params of one entry of `params`: itself, or a row's params.
fn params_in(param: &Value) -> Vec<&Value> {
    match param {
        Value::Array(row) => row.iter().collect(),
        param => vec![param],
    }
}

/// One form param: an input per column, then the button.
fn form(append: &Append, endpoint: &str, method: &str, label: &str, button: &str) -> Value {
    let mut inputs: Vec<Value> = append.columns.iter().map(input).collect();
    inputs
        .push(json!({"paramName": FORM_BUTTON, "type": "button", "value": true, "label": button}));
    json!({
        "paramName": if method == "PUT" { "replace_row" } else { "add_row" },
        "type": "form",
        "label": label,
        "endpoint": endpoint,
        "method": method,
        "inputParams": inputs,
    })
}

fn input(column: &Column) -> Value {
    let mut input = json!({
        "paramName": column.name,
        "type": column.kind.as_str(),
        "label": column.name,
    });
    if !column.options.is_empty() {
        let options: Vec<Value> = column
            .options
            .iter()
            .map(|option| json!({"label": option, "value": option}))
            .collect();
        input["options"] = Value::Array(options);
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(spec: Value) -> String {
        parse(spec, false).unwrap_err().1
    }

    #[test]
    fn only_a_fixed_data_file_with_sound_columns_is_a_target() {
        let columns = json!([{"name": "id"}]);
        for file in [
            "../x.csv",
            "a/../../x.csv",
            ".hidden.csv",
            "{desk}.csv",
            "/etc/x.csv",
        ] {
            let why = refusal(json!({"file": file, "columns": columns}));
            assert!(why.contains("inside data/"), "{file}: {why}");
        }
        assert!(refusal(json!({"file": "x.txt", "columns": columns})).contains(".csv"));
        assert!(refusal(json!({"file": "x.csv", "columns": []})).contains("at least one"));
        let twice = json!([{"name": "id"}, {"name": "id"}]);
        assert!(refusal(json!({"file": "x.csv", "columns": twice})).contains("twice"));
        let key = json!({"file": "x.csv", "columns": columns, "key": "nope"});
        assert!(refusal(key).contains("'nope'"));
        let kind = json!({"file": "x.csv", "columns": [{"name": "a", "type": "money"}]});
        assert!(refusal(kind).contains("money"));
        let fine = parse(json!({"file": "desk/log.jsonl", "columns": columns}), false).unwrap();
        assert_eq!(fine.format, Format::JsonLines);
        let notes = json!({"folder": "journal"});
        assert!(refusal(notes.clone()).contains("\"folder\" on a newsfeed"));
        assert!(parse(json!({"file": "x.csv", "columns": columns}), true).is_err());
    }

    #[test]
    fn the_submitter_column_is_server_filled_and_clashes_with_no_other() {
        let columns = json!([{"name": "id"}, {"name": "side"}]);
        let spec = |submitted_by: &str| {
            json!({"file": "x.csv", "columns": columns, "created_at": "at",
                   "submitted_by": submitted_by})
        };
        let fine = parse(spec("analyst"), false).unwrap();
        assert_eq!(fine.submitted_by.as_deref(), Some("analyst"));
        for clash in ["at", "side", "submit", ""] {
            let why = refusal(spec(clash));
            assert!(why.contains(&format!("'{clash}'")), "{clash}: {why}");
        }
        let mut entry = Map::new();
        add_forms(&mut entry, "/x", &fine);
        let form = entry["params"][0].to_string();
        assert!(
            !form.contains("analyst") && form.contains("\"side\""),
            "{form}"
        );
        let journal = parse(json!({"folder": "j", "submitted_by": "analyst"}), true).unwrap();
        assert_eq!(journal.submitted_by.as_deref(), Some("analyst"));
        for clash in ["author", "date", "Analyst"] {
            let err = parse(json!({"folder": "j", "submitted_by": clash}), true).unwrap_err();
            assert!(err.1.contains(&format!("'{clash}'")), "{clash}: {}", err.1);
        }
    }

    #[test]
    fn a_newsfeed_writes_notes_with_a_title_and_plain_extra_fields() {
        let notes = |spec: Value| parse(spec, true);
        let journal = notes(json!({"folder": "journal", "columns": [{"name": "ticker"}]})).unwrap();
        let names: Vec<&str> = journal.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["title", "body", "author", "ticker"]);
        assert!(journal.columns[0].required);
        assert_eq!(journal.created_at.as_deref(), Some("date"));
        for (spec, why) in [
            (json!({"folder": "../up"}), "inside data/"),
            (json!({"folder": "j", "key": "title"}), "no key"),
            (
                json!({"folder": "j", "columns": [{"name": "a:b"}]}),
                "'a:b'",
            ),
            (
                json!({"folder": "j", "columns": [{"name": "Title"}]}),
                "'Title'",
            ),
            (
                json!({"folder": "j", "columns": [{"name": "date"}]}),
                "'date'",
            ),
            (
                json!({"folder": "j", "columns": [{"name": "body"}]}),
                "'body'",
            ),
        ] {
            let err = notes(spec.clone()).unwrap_err().1;
            assert!(err.contains(why), "{spec}: {err}");
        }
    }
}
