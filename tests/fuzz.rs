//! Property-based fuzzing of everything that parses client or file input: the CSV reader (any
//! separator; decimal commas read as the same numbers as decimal points), damaged workbooks,
//! Parquet and gzip files (an error naming the file, never a panic), query
//! and percent decoding, the path sanitizer and data-folder containment, the filter planner and
//! row selection, JSON request bodies, and whole requests (SSRM bodies included) through the
//! application. Properties: nothing panics or hangs, refusals are JSON `{"detail"}` with a 4xx
//! status, and nothing outside `data/` is ever resolved or served; cache keys are equal only for
//! the same request, and an equality with many values answers as comparing with each would.
//!
//! `FUZZ_CASES` sets the cases per property (default 256, about 10 s in all in a debug build);
//! `fuzz/run.sh` runs many more in release mode. A property that runs past its time budget
//! ends the process with an error instead of hanging it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use openbb_files::app::App;
use openbb_files::cache::Key;
use openbb_files::filter::{Condition, Op, Rule};
use openbb_files::http::{Method, Request, parse_query, percent_encode};
use openbb_files::paths::{DataDir, clean_request_path, is_safe_segment};
use openbb_files::table::Cell;
use openbb_files::{Config, csv_read, filter, widgets};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::Value;

/// Text placed outside `data/`; no answer may ever contain it.
const SECRET: &str = "TOP-SECRET-OUTSIDE-DATA";
/// Longest a single case may take.
const CASE_LIMIT: Duration = Duration::from_secs(5);

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

/// Runs `property` over `strategy` for [`cases`] cases. Each case must end within
/// [`CASE_LIMIT`]; should one never end, a watchdog exits the process (a hang is a failure).
fn check<S: Strategy>(
    name: &str,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let cases = cases();
    let finished = Arc::new(AtomicBool::new(false));
    let budget = CASE_LIMIT * cases.max(1) + Duration::from_secs(60);
    {
        let finished = Arc::clone(&finished);
        let name = name.to_string();
        std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < budget {
                if finished.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            eprintln!("fuzz property '{name}' still running after {budget:?}: a hang");
            std::process::exit(101);
        });
    }
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let result = TestRunner::new(config).run(&strategy, |value| {
        let started = Instant::now();
        property(value)?;
        let took = started.elapsed();
        prop_assert!(took < CASE_LIMIT, "one case took {took:?}");
        Ok(())
    });
    finished.store(true, Ordering::SeqCst);
    if let Err(failure) = result {
        panic!("fuzz property '{name}' failed: {failure}");
    }
}

/// A folder with widgets over a small table, a Markdown template, a secret file beside
/// `data/`, a sibling folder whose name starts like `data`, and links that point out of it.
struct Site {
    root: PathBuf,
}

impl Site {
    fn new(name: &str) -> Site {
        let root =
            std::env::temp_dir().join(format!("openbb-files-fuzz-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let write = |relative: &str, contents: &str| {
            let path = root.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        };
        write("secret.txt", SECRET);
        write("data2/prices.csv", SECRET);
        write(".env", SECRET);
        write(
            "data/prices.csv",
            "id,date,ticker,close,volume\n1,2024-01-02,AAPL,185.5,100\n\
             2,2024-01-02,MSFT,370.25,200\n3,2024-01-03,AAPL,,110\n4,2024-01-04,NVDA,48.1,300\n",
        );
        write("data/notes/AAPL.md", "# Apple\n");
        write("data/doc.json", r#"{"a": [1, 2, {"b": null}]}"#);
        write(
            "widgets.json",
            r#"{
              "prices": {"name": "P", "description": "d", "endpoint": "prices",
                         "params": [{"paramName": "ticker", "type": "text", "value": "AAPL"}]},
              "big": {"name": "B", "description": "d", "type": "table_ssrm", "endpoint": "big",
                      "params": [{"paramName": "symbol", "type": "text", "value": ""}],
                      "backend": {"file": "prices.csv", "filters": {"symbol": "ticker",
                                  "since": {"column": "date", "op": "gte"}}}},
              "note": {"name": "N", "description": "d", "type": "markdown", "endpoint": "note",
                       "params": [{"paramName": "ticker", "type": "text", "value": "AAPL"}],
                       "backend": {"file": "notes/{ticker}.md"}},
              "by_name": {"name": "F", "description": "d", "endpoint": "by_name",
                          "backend": {"file": "{name}"}},
              "doc": {"name": "D", "description": "d", "endpoint": "doc"}
            }"#,
        );
        #[cfg(unix)]
        {
            let link = |target: &str, at: &str| {
                std::os::unix::fs::symlink(target, root.join(at)).unwrap();
            };
            link("../secret.txt", "data/escape.csv");
            link("..", "data/up");
            link("/etc", "data/etc");
        }
        Site { root }
    }

    fn data(&self) -> PathBuf {
        self.root.join("data").canonicalize().unwrap()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Path-ish text built from the pieces traversal attacks are made of: segments (names of
/// real files inside and outside `data/`, dot segments and their encodings, or a few pieces
/// run together), each followed by a separator or an encoded one.
fn hostile_path() -> impl Strategy<Value = String> {
    let named = prop::sample::select(vec![
        "..",
        "%2e%2e",
        ".%2e",
        "%2E%2E",
        ".",
        "",
        "C:",
        "data",
        "data2",
        "secret.txt",
        "prices.csv",
        "escape.csv",
        "up",
        "etc",
        "passwd",
        ".env",
        "notes",
        "AAPL.md",
    ])
    .prop_map(String::from);
    let piece = prop_oneof![
        named.clone(),
        prop::sample::select(vec!["%2f", "%5c", "%00", "%", "%%", "%g1", "\\", ":", "~"])
            .prop_map(String::from),
        "[a-z]{1,3}",
        any::<char>().prop_map(String::from),
    ];
    let segment = prop_oneof![
        3 => named,
        1 => prop::collection::vec(piece, 1..4).prop_map(|pieces| pieces.concat()),
    ];
    let separator = prop::sample::select(vec!["/", "/", "/", "//", "%2f", "%2F", "\\", "%5c"]);
    prop::collection::vec((segment, separator), 0..7).prop_map(|parts| {
        let mut path: String = parts
            .iter()
            .map(|(segment, sep)| format!("{segment}{sep}"))
            .collect();
        // Most paths end on a segment rather than a separator.
        if !path.len().is_multiple_of(3) {
            path.truncate(path.trim_end_matches(['/', '\\']).len());
        }
        path
    })
}

#[test]
fn csv_reader_never_panics_on_any_bytes() {
    check(
        "csv bytes",
        prop::collection::vec(any::<u8>(), 0..2048),
        |bytes| {
            let _ = csv_read::read_csv(&bytes[..]);
            Ok(())
        },
    );
}

#[test]
fn csv_reader_never_panics_on_csv_like_text() {
    let text = prop_oneof![
        "[a-c0-9,\"\r\n ;.é-]{0,600}",
        "(\u{feff})?(id,date,v\r?\n)?([0-9]{0,3},(2024-0[1-9]-[0-3][0-9])?,(\"[^\"]{0,5}\"|-?[0-9.e]{0,6})\r?\n){0,20}",
    ];
    check("csv text", text, |text| {
        if let Ok(table) = csv_read::read_csv(text.as_bytes()) {
            prop_assert!(table.names().len() <= text.len() + 1);
        }
        Ok(())
    });
}

/// Numbers as a semicolon file with decimal commas writes them, and as a comma file does.
fn european_and_plain(rows: &[(i32, u16)]) -> (String, String) {
    let mut european = String::from("id;value\n");
    let mut plain = String::from("id,value\n");
    for (index, (whole, cents)) in rows.iter().enumerate() {
        european.push_str(&format!("{index};{whole},{cents:02}\n"));
        plain.push_str(&format!("{index},{whole}.{cents:02}\n"));
    }
    (european, plain)
}

#[test]
fn delimited_text_never_panics_and_decimal_commas_read_as_points() {
    let text = "[a-c0-9;,|\t\"\r\n .-]{0,600}";
    check("delimited text", text, |text| {
        let _ = csv_read::read_csv(text.as_bytes());
        let _ = csv_read::read_delimited(text.as_bytes(), Some(b'|'), Some(b','));
        Ok(())
    });
    let rows = prop::collection::vec((-100_000i32..100_000, 0u16..100), 1..40);
    check("decimal commas", rows, |rows| {
        let (european, plain) = european_and_plain(&rows);
        let json = |text: &str| {
            let table = csv_read::read_csv(text.as_bytes()).unwrap();
            let mut out = Vec::new();
            table.write_json(0..table.rows(), &mut out);
            String::from_utf8(out).unwrap()
        };
        prop_assert_eq!(json(&european), json(&plain));
        Ok(())
    });
}

/// A small valid file of each binary format, to be damaged.
fn binary_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "ticker").unwrap();
    sheet.write_string(0, 1, "close").unwrap();
    for row in 1..20u32 {
        sheet.write_string(row, 0, "AAPL").unwrap();
        sheet.write_number(row, 1, f64::from(row) * 1.5).unwrap();
    }
    let xlsx = book.save_to_buffer().unwrap();
    let parquet = {
        use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
        let schema = parquet::schema::parser::parse_message_type(
            "message t { required int64 id; optional binary s (STRING); }",
        )
        .unwrap();
        let properties = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let mut out = Vec::new();
        let mut writer = parquet::file::writer::SerializedFileWriter::new(
            &mut out,
            Arc::new(schema),
            Arc::new(properties),
        )
        .unwrap();
        let mut group = writer.next_row_group().unwrap();
        let mut id = group.next_column().unwrap().unwrap();
        id.typed::<Int64Type>()
            .write_batch(&(0..50).collect::<Vec<_>>(), None, None)
            .unwrap();
        id.close().unwrap();
        let mut text = group.next_column().unwrap().unwrap();
        let values: Vec<ByteArray> = (0..25)
            .map(|i| ByteArray::from(format!("v{i}").as_str()))
            .collect();
        let defined: Vec<i16> = (0..50).map(|i| i16::from(i % 2 == 0)).collect();
        text.typed::<ByteArrayType>()
            .write_batch(&values, Some(&defined), None)
            .unwrap();
        text.close().unwrap();
        group.close().unwrap();
        writer.close().unwrap();
        out
    };
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gzip, b"a;b\n1,5;x\n2;y\n").unwrap();
    vec![
        ("x.xlsx", xlsx),
        ("x.parquet", parquet),
        ("x.csv.gz", gzip.finish().unwrap()),
    ]
}

#[test]
fn damaged_workbooks_parquet_and_compressed_files_are_errors_never_panics() {
    let seeds = binary_seeds();
    for (name, seed) in &seeds {
        openbb_files::data::Data::parse(name, seed).unwrap_or_else(|err| panic!("{name}: {err}"));
    }
    let damage = (
        0..seeds.len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        any::<prop::sample::Index>(),
        any::<bool>(),
    );
    check(
        "damaged binary files",
        damage,
        |(seed, changes, cut, truncate)| {
            let (name, bytes) = &seeds[seed];
            let mut bytes = bytes.clone();
            for (at, byte) in changes {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len()));
            }
            // A panic fails the property: every damaged file is Ok or a message naming it.
            if let Err(err) = openbb_files::data::Data::parse(name, &bytes) {
                prop_assert!(err.to_string().starts_with(*name), "{}", err);
            }
            Ok(())
        },
    );
}

#[test]
fn query_strings_decode_without_panics_and_round_trip() {
    check("query any", any::<String>(), |query| {
        let _ = parse_query(&query);
        Ok(())
    });
    let pairs = prop::collection::vec((any::<String>(), any::<String>()), 0..6);
    check("query round trip", pairs, |pairs| {
        let query: Vec<String> = pairs
            .iter()
            .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
            .collect();
        prop_assert_eq!(parse_query(&query.join("&")), pairs);
        Ok(())
    });
}

#[test]
fn clean_request_paths_hold_only_safe_segments() {
    check("clean path", hostile_path(), |raw| {
        if let Some(clean) = clean_request_path(&raw) {
            prop_assert!(!clean.starts_with('/'), "{raw:?} -> {clean:?}");
            if !clean.is_empty() {
                for segment in clean.split('/') {
                    prop_assert!(is_safe_segment(segment), "{raw:?} -> {clean:?}");
                }
            }
        }
        Ok(())
    });
}

#[test]
fn nothing_outside_data_is_ever_resolved() {
    let site = Site::new("resolve");
    let dir = DataDir::new(site.root.join("data"));
    let data = site.data();
    let inside = |path: &Path| {
        path.canonicalize()
            .is_ok_and(|real| real.starts_with(&data))
    };
    check("resolve", hostile_path(), |raw| {
        let cleaned = clean_request_path(&raw);
        for relative in [Some(raw.clone()), cleaned].into_iter().flatten() {
            if let Some((path, _)) = dir.resolve(&relative) {
                prop_assert!(inside(&path), "{relative:?} resolved to {}", path.display());
                let bytes = std::fs::read(&path).unwrap_or_default();
                prop_assert!(
                    !String::from_utf8_lossy(&bytes).contains(SECRET),
                    "{relative:?}"
                );
            }
        }
        Ok(())
    });
}

const OPS: [Op; 14] = [
    Op::Eq,
    Op::Gte,
    Op::Lte,
    Op::Ne,
    Op::Lt,
    Op::Gt,
    Op::InRange,
    Op::Contains,
    Op::NotContains,
    Op::StartsWith,
    Op::EndsWith,
    Op::Blank,
    Op::NotBlank,
    Op::Eq,
];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "id",
            "date",
            "ticker",
            "close",
            "volume",
            "ticker_in",
            "date_gte",
            "date_lte",
            "close_gt",
            "since",
            "until",
            "start_date",
            "end_date",
            "symbol",
            "TICKER",
        ])
        .prop_map(String::from),
        any::<String>(),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "(AAPL|MSFT|nvda|,| |2024-01-0[1-5]|-?[0-9]{1,4}(\\.[0-9]{1,3})?|e9|NaN|inf){0,6}",
        any::<String>(),
    ]
}

#[test]
fn filter_plans_and_row_selection_never_panic() {
    let table = csv_read::read_csv(
        &b"id,date,ticker,close,volume\n1,2024-01-02,AAPL,185.5,100\n\
           2,2024-01-02,MSFT,370.25,\n3,,AAPL,,110\n4,2024-01-04,NVDA,48.1,300\n"[..],
    )
    .unwrap();
    let rule = prop_oneof![
        Just(None),
        name().prop_map(|column| Some(Rule::Column(column))),
        (name(), prop::sample::select(OPS.to_vec()))
            .prop_map(|(column, op)| Some(Rule::Bound { column, op })),
    ];
    let input = (
        prop::collection::vec((name(), value()), 0..6),
        prop::collection::vec((name(), rule), 0..4),
    );
    check("filter", input, |(params, rules)| {
        if let Ok(conditions) =
            filter::plan(&params, table.names(), &rules, &filter::Limits::default())
        {
            let rows = table.select(&conditions);
            prop_assert!(rows.iter().all(|row| *row < 4), "{rows:?}");
        }
        Ok(())
    });
}

/// Text from a few characters, NUL and the separators of the old joined keys among them, so
/// that lists of different parameters often spell the same bytes when joined.
fn key_text() -> impl Strategy<Value = String> {
    "[a?=\\x00,]{0,3}"
}

fn parts(parts: &[String]) -> Vec<&str> {
    parts.iter().map(String::as_str).collect()
}

/// A request as a cache key sees it: the parts (widget, file, ...) and the parameters.
fn key_request() -> impl Strategy<Value = (Vec<String>, Vec<(String, String)>)> {
    (
        prop::collection::vec(key_text(), 1..3),
        prop::collection::vec((key_text(), key_text()), 0..4),
    )
}

#[test]
fn cache_keys_are_equal_only_for_the_same_request() {
    check(
        "cache keys",
        (key_request(), key_request()),
        |((parts_a, a), (parts_b, b))| {
            let key_a = Key::new(&parts(&parts_a), &a);
            let key_b = Key::new(&parts(&parts_b), &b);
            let sorted = |mut params: Vec<(String, String)>| {
                params.sort();
                params
            };
            let same = parts_a == parts_b && sorted(a.clone()) == sorted(b.clone());
            prop_assert_eq!(
                key_a == key_b,
                same,
                "{:?} {:?} / {:?} {:?}",
                parts_a,
                a,
                parts_b,
                b
            );
            Ok(())
        },
    );
}

/// A cell of any type, text drawn from the same few values the filters compare with.
fn cell_value() -> impl Strategy<Value = (u8, String, i64, f64, bool)> {
    (
        0u8..5,
        equality_value(),
        -3i64..3,
        prop_oneof![Just(-0.0), Just(0.5), Just(2.0), -3.0f64..3.0],
        any::<bool>(),
    )
}

fn equality_value() -> impl Strategy<Value = String> {
    "(a|A|b|0|-0|1|1.0|2|0.5|true|yes|no|NaN|é|É|x{70}|X{70}){1,2}"
}

#[test]
fn equality_with_many_values_answers_as_each_value_would() {
    let input = (prop::collection::vec(equality_value(), 0..40), cell_value());
    check(
        "equality lookup",
        input,
        |(values, (kind, text, int, float, truth))| {
            let cell = match kind {
                0 => Cell::Null,
                1 => Cell::Text(&text),
                2 => Cell::Int(int),
                3 => Cell::Float(float),
                _ => Cell::Bool(truth),
            };
            let each = values
                .iter()
                .any(|value| Condition::new(0, Op::Eq, vec![value.clone()]).accepts(cell));
            for (op, expected) in [(Op::Eq, each), (Op::Ne, !each)] {
                let all = Condition::new(0, op, values.clone());
                prop_assert_eq!(
                    all.accepts(cell),
                    expected,
                    "{:?} {:?} {:?}",
                    op,
                    values,
                    cell
                );
            }
            Ok(())
        },
    );
}

/// JSON values shaped like AG Grid's server-side requests, with random types in every place.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "startRow",
            "endRow",
            "sortModel",
            "filterModel",
            "colId",
            "sort",
            "asc",
            "desc",
            "filterType",
            "type",
            "filter",
            "filterTo",
            "dateFrom",
            "dateTo",
            "values",
            "conditions",
            "operator",
            "AND",
            "OR",
            "text",
            "number",
            "date",
            "set",
            "equals",
            "notEqual",
            "contains",
            "lessThan",
            "greaterThanOrEqual",
            "inRange",
            "blank",
            "id",
            "ticker",
            "close",
            "volume",
            "symbol",
            "since",
            "rowGroupCols",
            "groupKeys",
        ])
        .prop_map(String::from),
        any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e3f64..1e12).prop_map(Value::from),
        prop_oneof![key.clone(), value()].prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

#[test]
fn json_bodies_are_objects_or_400_with_a_detail() {
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json_value().prop_map(|value| value.to_string().into_bytes()),
        json_value().prop_map(|value| Value::from(value.to_string()).to_string().into_bytes()),
    ];
    check("json body", body, |body| {
        let mut request = Request::new(Method::Post, "/x", Vec::new());
        request.body = body;
        if let Err(response) = widgets::json_body(&request) {
            prop_assert_eq!(response.status, 400);
            let json: Value = serde_json::from_slice(response.body.as_ref()).unwrap();
            prop_assert!(json["detail"].is_string());
        }
        Ok(())
    });
}

#[test]
fn any_request_is_answered_without_a_500_or_a_byte_from_outside_data() {
    let site = Site::new("app");
    let config = Config {
        root: site.root.clone(),
        ..Config::default()
    };
    let app = App::new(&config);
    let endpoint = prop_oneof![
        prop::sample::select(vec![
            "/prices",
            "/big",
            "/note",
            "/by_name",
            "/doc",
            "/widgets.json",
            "/apps.json",
            "/",
            "/big/",
            "/prices.csv",
        ])
        .prop_map(String::from),
        hostile_path().prop_map(|path| format!("/{path}")),
    ];
    let query = prop::collection::vec(
        (
            prop_oneof![
                prop::sample::select(vec!["ticker", "name", "symbol", "since", "raw"])
                    .prop_map(String::from),
                name()
            ],
            prop_oneof![hostile_path(), value()],
        ),
        0..4,
    );
    let body = prop_oneof![
        Just(Vec::new()),
        json_value().prop_map(|value| value.to_string().into_bytes()),
        prop::collection::vec((json_value(), json_value()), 0..6).prop_map(|pairs| {
            let object: serde_json::Map<String, Value> = pairs
                .into_iter()
                .map(|(key, value)| (key.as_str().map_or(key.to_string(), String::from), value))
                .collect();
            Value::Object(object).to_string().into_bytes()
        }),
    ];
    let method = prop::sample::select(vec![
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Options,
    ]);
    check(
        "app",
        (method, endpoint, query, body),
        |(method, path, query, body)| {
            let query: Vec<String> = query
                .iter()
                .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
                .collect();
            let target = format!("{path}?{}", query.join("&"));
            let mut request = Request::new(
                method,
                &target,
                vec![("Origin".into(), "https://pro.openbb.co".into())],
            );
            request.body = body;
            let response = app.handle(&request);
            let bytes = response.body.as_ref();
            prop_assert!(
                response.status != 500,
                "{target}: {}",
                String::from_utf8_lossy(bytes)
            );
            prop_assert!(
                !String::from_utf8_lossy(bytes).contains(SECRET),
                "{target} served a file from outside data/"
            );
            if response.status >= 400 && !bytes.is_empty() {
                let json: Value = serde_json::from_slice(bytes)
                    .map_err(|err| TestCaseError::fail(format!("{target}: not JSON: {err}")))?;
                prop_assert!(json["detail"].is_string(), "{target}: {json}");
            }
            Ok(())
        },
    );
}
