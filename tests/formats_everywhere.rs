//! Every table format works everywhere a table does: the same small OHLCV dataset (date, symbol,
//! open, high, low, close, volume, note) as comma, tab, pipe and semicolon (decimal comma)
//! text, JSON Lines, `.csv.gz`, `.jsonl.zst`, an `.xlsx`, `.xls` and `.ods` sheet (the second
//! sheet, picked by `backend.sheet`) and Parquet, each served over real sockets as a table, an
//! ssrm_table (a filter and a sort), a metric and a dropdown from a column, an advanced chart's
//! UDF feed, an omni search (the plain text formats), by zero configuration and `init`, and
//! checked by `check`. live_grid: appending a line to a text file pushes the new row; a
//! workbook, Parquet or compressed file pushes the rows that changed when it is rewritten.
//!
//! Fixtures are written here (rust_xlsxwriter, an OpenDocument zip, the parquet crate's writer,
//! flate2, zstd), except the `.xls`: no Rust crate writes one, so `tests/fixtures/prices.xls`
//! is committed, made by `tests/fixtures/make_prices_xls.py`.

use std::process::Command;

use serde_json::{Map, Value, json};

use crate::live::{append, connect, next_row, replace};
use crate::support::{Fixture, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_openbb-files");

/// 2024-01-02 00:00 UTC.
const JAN_2: i64 = 1_704_153_600;
const DAY: i64 = 86_400;

/// One row of the dataset: date, symbol, open, high, low, close, volume, note.
type Row = (
    &'static str,
    &'static str,
    f64,
    f64,
    f64,
    f64,
    i64,
    &'static str,
);

const ROWS: [Row; 4] = [
    (
        "2024-01-02",
        "AAPL",
        185.5,
        186.25,
        183.75,
        185.75,
        1000,
        "earnings soon",
    ),
    (
        "2024-01-02",
        "MSFT",
        370.5,
        372.0,
        369.0,
        371.25,
        2000,
        "cloud beat",
    ),
    (
        "2024-01-03",
        "AAPL",
        186.0,
        188.5,
        185.0,
        187.5,
        1100,
        "new high",
    ),
    (
        "2024-01-03",
        "MSFT",
        371.0,
        373.5,
        370.0,
        372.75,
        2100,
        "flat day",
    ),
];

/// The row the live_grid tests add.
const NEW_ROW: Row = (
    "2024-01-04",
    "AAPL",
    187.5,
    190.0,
    187.0,
    189.25,
    1200,
    "another high",
);

const COLUMNS: [&str; 8] = [
    "date", "symbol", "open", "high", "low", "close", "volume", "note",
];

/// A row as a table answers it, numbers as floats (see [`numbers_as_floats`]).
fn expected(row: &Row) -> Value {
    let (date, symbol, open, high, low, close, volume, note) = *row;
    json!({"date": date, "symbol": symbol, "open": open, "high": high, "low": low,
           "close": close, "volume": volume as f64, "note": note})
}

/// `value` with every number a float: a workbook has no integers (`1000.0`), CSV and Parquet
/// do (`1000`); the matrix compares values, not how a format stores them.
fn numbers_as_floats(value: Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_floats).collect()),
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(k, v)| (k, numbers_as_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The dataset as delimited text: `separator` between fields, `decimal` as the decimal mark.
fn delimited(rows: &[Row], separator: char, decimal: char, header: bool) -> String {
    let number = |n: f64| n.to_string().replace('.', &decimal.to_string());
    let mut out = String::new();
    if header {
        out.push_str(&COLUMNS.join(&separator.to_string()));
        out.push('\n');
    }
    for &(date, symbol, open, high, low, close, volume, note) in rows {
        let fields = [
            date.to_string(),
            symbol.to_string(),
            number(open),
            number(high),
            number(low),
            number(close),
            volume.to_string(),
            note.to_string(),
        ];
        out.push_str(&fields.join(&separator.to_string()));
        out.push('\n');
    }
    out
}

fn json_lines(rows: &[Row]) -> String {
    rows.iter()
        .map(|row| format!("{}\n", expected(row)))
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A workbook whose first sheet ("About") is a note and whose second ("Prices") holds `rows`
/// under a title row, with real date cells.
fn xlsx(rows: &[Row]) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let about = book.add_worksheet().set_name("About").unwrap();
    about
        .write_string(0, 0, "Daily prices, see the next sheet")
        .unwrap();
    let sheet = book.add_worksheet().set_name("Prices").unwrap();
    sheet.write_string(0, 0, "Daily prices").unwrap();
    for (column, name) in COLUMNS.iter().enumerate() {
        sheet.write_string(1, column as u16, *name).unwrap();
    }
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    for (index, &(date, symbol, open, high, low, close, volume, note)) in rows.iter().enumerate() {
        let row = 2 + index as u32;
        let date = ExcelDateTime::parse_from_str(date).unwrap();
        sheet
            .write_datetime_with_format(row, 0, &date, &date_format)
            .unwrap();
        sheet.write_string(row, 1, symbol).unwrap();
        for (column, number) in [open, high, low, close, volume as f64].iter().enumerate() {
            sheet.write_number(row, 2 + column as u16, *number).unwrap();
        }
        sheet.write_string(row, 7, note).unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// The same two sheets as an OpenDocument spreadsheet.
fn ods(rows: &[Row]) -> Vec<u8> {
    let text = |text: &str| {
        format!(
            r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
        )
    };
    let number =
        |n: f64| format!(r#"<table:table-cell office:value-type="float" office:value="{n}"/>"#);
    let date = |d: &str| {
        format!(r#"<table:table-cell office:value-type="date" office:date-value="{d}"/>"#)
    };
    let row = |cells: Vec<String>| format!("<table:table-row>{}</table:table-row>", cells.concat());
    let mut prices = row(COLUMNS.iter().map(|c| text(c)).collect());
    for &(day, symbol, open, high, low, close, volume, note) in rows {
        prices.push_str(&row(vec![
            date(day),
            text(symbol),
            number(open),
            number(high),
            number(low),
            number(close),
            number(volume as f64),
            text(note),
        ]));
    }
    let about = row(vec![text("Daily prices, see the next sheet")]);
    crate::formats::ods(&[("About", &about), ("Prices", &prices)])
}

/// The dataset as Parquet (snappy), typed by its schema: a DATE, strings, doubles, an int64.
fn parquet(rows: &[Row]) -> Vec<u8> {
    use crate::formats::w_typed;
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    use std::sync::Arc;

    let schema = parse_message_type(
        "message prices {
            required int32 date (DATE);
            required binary symbol (STRING);
            required double open; required double high; required double low; required double close;
            required int64 volume;
            optional binary note (STRING);
        }",
    )
    .unwrap();
    let properties = WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut out = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut out, Arc::new(schema), Arc::new(properties)).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut column = |write: &dyn Fn(&mut parquet::column::writer::ColumnWriter<'_>)| {
        let mut next = group.next_column().unwrap().unwrap();
        write(next.untyped());
        next.close().unwrap();
    };
    let days: Vec<i32> = rows
        .iter()
        .map(|row| (unix_day(row.0) / DAY) as i32)
        .collect();
    let text = |pick: fn(&Row) -> &'static str| -> Vec<ByteArray> {
        rows.iter().map(|row| ByteArray::from(pick(row))).collect()
    };
    let float = |pick: fn(&Row) -> f64| -> Vec<f64> { rows.iter().map(pick).collect() };
    let all_defined = vec![1i16; rows.len()];
    column(&|w| w_typed::<Int32Type>(w, &days, None));
    column(&|w| w_typed::<ByteArrayType>(w, &text(|r| r.1), None));
    column(&|w| w_typed::<DoubleType>(w, &float(|r| r.2), None));
    column(&|w| w_typed::<DoubleType>(w, &float(|r| r.3), None));
    column(&|w| w_typed::<DoubleType>(w, &float(|r| r.4), None));
    column(&|w| w_typed::<DoubleType>(w, &float(|r| r.5), None));
    let volumes: Vec<i64> = rows.iter().map(|row| row.6).collect();
    column(&|w| w_typed::<Int64Type>(w, &volumes, None));
    column(&|w| w_typed::<ByteArrayType>(w, &text(|r| r.7), Some(&all_defined)));
    group.close().unwrap();
    writer.close().unwrap();
    out
}

/// Unix seconds of a `2024-01-DD` date (the dataset's days).
fn unix_day(date: &str) -> i64 {
    let day: i64 = date.strip_prefix("2024-01-").unwrap().parse().unwrap();
    JAN_2 + (day - 2) * DAY
}

/// One format of the matrix.
struct Case {
    /// The widgets' id suffix.
    name: &'static str,
    /// The file under `data/`.
    file: &'static str,
    /// `backend.sheet` for the workbooks (their data is on the second sheet).
    sheet: Option<&'static str>,
    /// The widget zero configuration makes of it.
    generated: &'static str,
    /// How the file is written, from the rows.
    write: fn(&[Row]) -> Vec<u8>,
    /// The new row as a line appended to the file, for the formats a feed appends to; `None`:
    /// the file is rewritten whole (workbooks, Parquet, compressed files).
    appended: Option<fn(&Row) -> String>,
    /// Whether omni searches it (the plain text formats).
    searched: bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "csv",
            file: "prices.csv",
            sheet: None,
            generated: "prices_csv",
            write: |rows| delimited(rows, ',', '.', true).into_bytes(),
            appended: Some(|row| delimited(&[*row], ',', '.', false)),
            searched: true,
        },
        Case {
            name: "tsv",
            file: "prices.tsv",
            sheet: None,
            generated: "prices_tsv",
            write: |rows| delimited(rows, '\t', '.', true).into_bytes(),
            appended: Some(|row| delimited(&[*row], '\t', '.', false)),
            searched: true,
        },
        Case {
            name: "psv",
            file: "prices.psv",
            sheet: None,
            generated: "prices_psv",
            write: |rows| delimited(rows, '|', '.', true).into_bytes(),
            appended: Some(|row| delimited(&[*row], '|', '.', false)),
            searched: true,
        },
        Case {
            name: "eu",
            file: "eu.csv",
            sheet: None,
            generated: "eu_csv",
            write: |rows| delimited(rows, ';', ',', true).into_bytes(),
            appended: Some(|row| delimited(&[*row], ';', ',', false)),
            searched: true,
        },
        Case {
            name: "jsonl",
            file: "prices.jsonl",
            sheet: None,
            generated: "prices_jsonl",
            write: |rows| json_lines(rows).into_bytes(),
            appended: Some(|row| json_lines(&[*row])),
            searched: true,
        },
        Case {
            name: "gz",
            file: "prices.csv.gz",
            sheet: None,
            generated: "prices_csv_gz",
            write: |rows| gzip(delimited(rows, ',', '.', true).as_bytes()),
            appended: None,
            searched: false,
        },
        Case {
            name: "zst",
            file: "lines.jsonl.zst",
            sheet: None,
            generated: "lines_jsonl_zst",
            write: |rows| zstd::encode_all(json_lines(rows).as_bytes(), 3).unwrap(),
            appended: None,
            searched: false,
        },
        Case {
            name: "xlsx",
            file: "book.xlsx",
            sheet: Some("Prices"),
            generated: "book_xlsx_prices",
            write: xlsx,
            appended: None,
            searched: false,
        },
        Case {
            name: "xls",
            file: "legacy.xls",
            sheet: Some("Prices"),
            generated: "legacy_xls_prices",
            write: |_| {
                std::fs::read(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/fixtures/prices.xls"
                ))
                .unwrap()
            },
            appended: None,
            searched: false,
        },
        Case {
            name: "ods",
            file: "book.ods",
            sheet: Some("Prices"),
            generated: "book_ods_prices",
            write: ods,
            appended: None,
            searched: false,
        },
        Case {
            name: "parquet",
            file: "prices.parquet",
            sheet: None,
            generated: "prices_parquet",
            write: parquet,
            appended: None,
            searched: false,
        },
    ]
}

/// `data/` holding every case's file.
fn data_folder() -> Fixture {
    let fixture = Fixture::new();
    for case in cases() {
        fixture.write(&format!("data/{}", case.file), (case.write)(&ROWS));
    }
    fixture
}

impl Case {
    /// `backend.file`, with `backend.sheet` for a workbook.
    fn backend(&self) -> Map<String, Value> {
        let mut backend = Map::new();
        backend.insert("file".into(), json!(self.file));
        if let Some(sheet) = self.sheet {
            backend.insert("sheet".into(), json!(sheet));
        }
        backend
    }

    /// The case's widgets: a table, an ssrm_table, a metric, a table whose dropdown comes from
    /// the file, an advanced chart and a live_grid, ids `<kind>_<name>`.
    fn widgets(&self) -> Vec<(String, Value)> {
        let name = self.name;
        let with = |extra: Value| {
            let mut backend = self.backend();
            backend.extend(extra.as_object().unwrap().clone());
            Value::Object(backend)
        };
        let symbol = json!({"paramName": "symbol", "type": "endpoint", "value": "AAPL",
                            "optionsEndpoint": format!("pick_{name}/options")});
        [
            ("table", json!({"type": "table"}), with(json!({}))),
            ("ssrm", json!({"type": "ssrm_table"}), with(json!({}))),
            (
                "metric",
                json!({"type": "metric"}),
                with(json!({"column": "close", "label": "Close"})),
            ),
            (
                "pick",
                json!({"type": "table", "params": [symbol]}),
                with(json!({"options": {"symbol": {"file": self.file, "column": "symbol"}}})),
            ),
            (
                "chart",
                json!({"type": "advanced_charting", "data": {"defaultSymbol": "AAPL"}}),
                with(json!({})),
            ),
            (
                "live",
                json!({"type": "live_grid", "wsEndpoint": format!("live_{name}/ws"),
                       "data": {"wsRowIdColumn": "symbol"}}),
                with(json!({})),
            ),
        ]
        .into_iter()
        .map(|(kind, mut widget, backend)| {
            let id = format!("{kind}_{name}");
            widget["name"] = json!(id);
            widget["description"] = json!("d");
            widget["endpoint"] = json!(id);
            widget["backend"] = backend;
            (id, widget)
        })
        .collect()
    }
}

/// Every case's widgets and one omni search over all of `data/`.
fn manifest() -> String {
    let mut all = Map::new();
    for case in cases() {
        all.extend(case.widgets());
    }
    all.insert(
        "search".into(),
        json!({"name": "Search", "description": "d", "type": "omni", "endpoint": "search",
               "params": [{"paramName": "prompt", "type": "text", "value": ""}]}),
    );
    Value::Object(all).to_string()
}

fn server() -> TestServer {
    let fixture = data_folder();
    fixture.write("widgets.json", manifest());
    TestServer::start(fixture)
}

fn ok_json(server: &TestServer, path: &str) -> Value {
    let reply = server.get(path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.json()
}

#[test]
fn every_format_is_a_table_an_ssrm_table_a_metric_and_a_dropdown() {
    let server = server();
    for case in cases() {
        let name = case.name;
        let msft: Vec<Value> = ROWS
            .iter()
            .filter(|r| r.1 == "MSFT")
            .map(expected)
            .collect();
        assert_eq!(
            numbers_as_floats(ok_json(&server, &format!("/table_{name}?symbol=MSFT"))),
            json!(msft),
            "{name}: table"
        );
        let body = json!({"startRow": 0, "endRow": 10,
            "filterModel": {"close": {"filterType": "number", "type": "greaterThan", "filter": 186}},
            "sortModel": [{"colId": "close", "sort": "desc"}]});
        let page = server.post(&format!("/ssrm_{name}"), &body.to_string());
        assert_eq!(page.status, 200, "{name}: ssrm: {}", page.body);
        let page = numbers_as_floats(page.json());
        let closes: Vec<&Value> = page["rowData"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| &row["close"])
            .collect();
        assert_eq!(closes, [372.75, 371.25, 187.5], "{name}: ssrm: {page}");
        assert_eq!(page["rowCount"], 3.0, "{name}: ssrm");
        assert_eq!(
            numbers_as_floats(ok_json(&server, &format!("/metric_{name}?symbol=AAPL"))),
            json!([{"label": "Close", "value": 187.5, "delta": 1.75}]),
            "{name}: metric"
        );
        assert_eq!(
            ok_json(&server, &format!("/pick_{name}/options")),
            json!([{"label": "AAPL", "value": "AAPL"}, {"label": "MSFT", "value": "MSFT"}]),
            "{name}: options"
        );
        assert_eq!(
            ok_json(&server, &format!("/pick_{name}?symbol=AAPL"))
                .as_array()
                .unwrap()
                .len(),
            2,
            "{name}: the dropdown's value filters"
        );
    }
}

#[test]
fn every_format_feeds_an_advanced_chart() {
    let server = server();
    for case in cases() {
        let chart = format!("/chart_{}", case.name);
        let history = ok_json(
            &server,
            &format!(
                "{chart}/history?symbol=AAPL&resolution=D&from={}&to={}",
                JAN_2 - DAY,
                JAN_2 + 7 * DAY
            ),
        );
        assert_eq!(
            numbers_as_floats(history),
            numbers_as_floats(json!({"s": "ok", "t": [JAN_2, JAN_2 + DAY],
                "o": [185.5, 186.0], "h": [186.25, 188.5], "l": [183.75, 185.0],
                "c": [185.75, 187.5], "v": [1000, 1100]})),
            "{chart}"
        );
        let weekly = ok_json(
            &server,
            &format!(
                "{chart}/history?symbol=MSFT&resolution=W&countback=1&to={}",
                JAN_2 + 7 * DAY
            ),
        );
        assert_eq!(
            numbers_as_floats(weekly["c"].clone()),
            json!([372.75]),
            "{chart}"
        );
        assert_eq!(
            ok_json(&server, &format!("{chart}/symbols?symbol=MSFT"))["name"],
            "MSFT"
        );
        let found = ok_json(&server, &format!("{chart}/search?query=ms"));
        assert_eq!(found[0]["symbol"], "MSFT", "{chart}: {found}");
        assert_eq!(
            server.get(&format!("{chart}/symbols?symbol=NVDA")).status,
            404
        );
    }
}

#[test]
fn omni_searches_the_text_formats() {
    let server = server();
    let reply = server.post("/search", r#"{"prompt": "cloud beat"}"#);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let hits = reply.json()["content"].clone();
    let mut files: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["file"].as_str().unwrap())
        .collect();
    files.sort_unstable();
    let mut searched: Vec<&str> = cases()
        .iter()
        .filter(|case| case.searched)
        .map(|case| case.file)
        .collect();
    searched.sort_unstable();
    assert_eq!(files, searched, "{hits}");
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .all(|hit| hit["snippet"].as_str().unwrap().contains("cloud beat")),
        "{hits}"
    );
}

#[test]
fn check_passes_every_format_and_names_the_line_or_sheet_of_a_broken_one() {
    let fixture = data_folder();
    fixture.write("widgets.json", manifest());
    let check = |fixture: &Fixture| {
        let out = Command::new(BIN)
            .args(["check", "--root"])
            .arg(&fixture.root)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, text) = check(&fixture);
    assert!(
        code == Some(0) && text.ends_with(": 0 error(s), 0 warning(s)\n"),
        "{text}"
    );
    // Each format broken as its kind of file breaks: a ragged row, a line that is not JSON, a
    // sheet that is not there, a cut file.
    let mut broken_rows = ROWS.to_vec();
    broken_rows.truncate(2);
    let cut = |bytes: Vec<u8>| bytes[..bytes.len() / 2].to_vec();
    fixture
        .write(
            "data/prices.tsv",
            "date\tsymbol\n2024-01-02\tAAPL\n2024-01-03\tAAPL\tx\n",
        )
        .write(
            "data/lines.jsonl.zst",
            zstd::encode_all(&b"{\"date\": \"2024-01-02\"}\n{oops\n"[..], 3).unwrap(),
        )
        .write("data/book.xlsx", cut(xlsx(&broken_rows)))
        .write("data/prices.parquet", cut(parquet(&broken_rows)));
    let mut manifest: Value = serde_json::from_str(&manifest()).unwrap();
    manifest["table_ods"]["backend"]["sheet"] = json!("Nope");
    fixture.write("widgets.json", manifest.to_string());
    let (code, text) = check(&fixture);
    assert_eq!(code, Some(1), "{text}");
    for expected in [
        "data/prices.tsv: line 3: this row has 3 fields but the header has 2",
        "data/lines.jsonl.zst: line 2",
        "data/book.xlsx: ",
        "data/prices.parquet: ",
        "data/book.ods: no sheet 'Nope' (the sheets are: About, Prices)",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}

#[test]
fn zero_configuration_and_init_serve_every_format() {
    let server = TestServer::start(data_folder());
    let root = server.fixture.root.clone();
    let manifest = ok_json(&server, "/widgets.json");
    for case in cases() {
        let id = case.generated;
        let widget = &manifest[id];
        assert_eq!(widget["type"], "table", "{id}: {manifest}");
        let columns: Vec<&Value> = widget["data"]["table"]["columnsDefs"]
            .as_array()
            .unwrap_or_else(|| panic!("{id}: {widget}"))
            .iter()
            .map(|column| &column["field"])
            .collect();
        assert_eq!(columns, COLUMNS, "{id}");
        let types: Vec<&Value> = widget["data"]["table"]["columnsDefs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|column| &column["cellDataType"])
            .collect();
        assert_eq!(
            types,
            [
                "date", "text", "number", "number", "number", "number", "number", "text"
            ],
            "{id}"
        );
        let rows = ok_json(&server, &format!("/{id}?symbol=AAPL"));
        let aapl: Vec<Value> = ROWS
            .iter()
            .filter(|r| r.1 == "AAPL")
            .map(expected)
            .collect();
        assert_eq!(numbers_as_floats(rows), json!(aapl), "{id}");
        // The symbol column (two values, repeated) is a dropdown from the data.
        let params = widget["params"]
            .as_array()
            .unwrap_or_else(|| panic!("{id}: {widget}"));
        let symbol = params
            .iter()
            .find(|p| p["paramName"] == "symbol")
            .unwrap_or_else(|| panic!("{id}: no symbol dropdown in {widget}"));
        assert_eq!(symbol["value"], "AAPL", "{id}");
        let endpoint = symbol["optionsEndpoint"].as_str().unwrap();
        assert_eq!(
            ok_json(&server, &format!("/{endpoint}")),
            json!([{"label": "AAPL", "value": "AAPL"}, {"label": "MSFT", "value": "MSFT"}]),
            "{id}"
        );
    }
    let served: Vec<String> = manifest.as_object().unwrap().keys().cloned().collect();

    let init = Command::new(BIN)
        .args(["init", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
    let written: Value =
        serde_json::from_slice(&std::fs::read(root.join("widgets.json")).unwrap()).unwrap();
    let ids: Vec<String> = written.as_object().unwrap().keys().cloned().collect();
    assert_eq!(ids, served, "init writes what zero configuration serves");
    for case in cases() {
        assert_eq!(written[case.generated]["backend"]["file"], case.file);
        assert_eq!(
            written[case.generated]["backend"]["sheet"],
            json!(case.sheet),
            "{}",
            case.generated
        );
    }
    let check = Command::new(BIN)
        .args(["check", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    let out = String::from_utf8(check.stdout).unwrap();
    assert!(
        check.status.success() && out.ends_with(": 0 error(s), 0 warning(s)\n"),
        "{out}"
    );
}

#[test]
fn live_grids_push_appended_lines_and_rewritten_files() {
    let server = server();
    for case in cases() {
        let name = case.name;
        let latest = numbers_as_floats(ok_json(&server, &format!("/live_{name}")));
        assert_eq!(
            latest,
            json!([expected(&ROWS[2]), expected(&ROWS[3])]),
            "{name}"
        );
        let mut socket = connect(&server, &format!("/live_{name}/ws"));
        if case.name == "xls" {
            continue; // A committed file: this test cannot write another version of it.
        }
        match case.appended {
            Some(line) => append(
                &server.fixture,
                &format!("data/{}", case.file),
                &line(&NEW_ROW),
            ),
            None => {
                let mut rows = ROWS.to_vec();
                rows.push(NEW_ROW);
                replace(
                    &server.fixture,
                    &format!("data/{}", case.file),
                    (case.write)(&rows),
                );
            }
        }
        assert_eq!(
            numbers_as_floats(next_row(&mut socket)),
            expected(&NEW_ROW),
            "{name}: the new row is pushed"
        );
    }
}

#[test]
fn a_live_workbook_caught_half_saved_is_read_again_once_whole() {
    let server = server();
    let mut socket = connect(&server, "/live_xlsx/ws");
    let mut rows = ROWS.to_vec();
    rows.push(NEW_ROW);
    let saved = xlsx(&rows);
    replace(&server.fixture, "data/book.xlsx", &saved[..saved.len() / 2]);
    // Longer than the server's look at the file (four times a second).
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert_eq!(
        server.get("/live_xlsx").status,
        500,
        "the half-saved file is an error for its GET"
    );
    replace(&server.fixture, "data/book.xlsx", saved);
    assert_eq!(numbers_as_floats(next_row(&mut socket)), expected(&NEW_ROW));
}
