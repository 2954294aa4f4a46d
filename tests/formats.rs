//! Every file format an analyst keeps, served as tables: delimited text (separator detected,
//! decimal commas), JSON Lines, compressed files, workbooks (one table per sheet) and Parquet;
//! and every bad one (corrupt, truncated, encrypted, a zip bomb) a clear error naming the file
//! while the server keeps serving. Fixtures are written by the tests themselves: workbooks with
//! rust_xlsxwriter, Parquet with the parquet crate's writer, compressed files with flate2/zstd.

use std::io::Write;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::{Fixture, TestServer, test_config};

/// A widgets.json of table widgets, each `(id, backend)`; the endpoint is the id.
fn widgets(entries: &[(&str, Value)]) -> String {
    let mut all = serde_json::Map::new();
    for (id, backend) in entries {
        all.insert(
            id.to_string(),
            json!({"name": id, "description": "d", "endpoint": id, "backend": backend}),
        );
    }
    Value::Object(all).to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn semicolons_tabs_and_pipes_are_detected_and_decimal_commas_are_numbers() {
    let fixture = Fixture::new();
    fixture
        .write(
            "data/eu.csv",
            "date;ticker;close;note\n2024-01-02;AAPL;185,5;a, b\n2024-01-03;MSFT;370;x\n",
        )
        .write("data/t.tsv", "ticker\tclose\nAAPL\t1.5\n")
        .write("data/p.psv", "ticker|close\nAAPL|2\n")
        .write("data/pipes.txt", "ticker|close\nAAPL|3,5\n")
        .write(
            "widgets.json",
            widgets(&[
                ("eu", json!({"file": "eu.csv"})),
                ("eu_as_written", json!({"file": "eu.csv", "decimal": "."})),
                ("tsv", json!({"file": "t.tsv"})),
                ("psv", json!({"file": "p.psv"})),
                (
                    "pipes",
                    json!({"file": "pipes.txt", "delimiter": "|", "decimal": ","}),
                ),
            ]),
        );
    let server = TestServer::start(fixture);
    assert_eq!(
        server.get("/eu?ticker=aapl").json(),
        json!([{"date": "2024-01-02", "ticker": "AAPL", "close": 185.5, "note": "a, b"}])
    );
    assert_eq!(
        server.get("/eu_as_written").json()[0]["close"],
        json!("185,5"),
        "backend.decimal '.' reads the cell as written"
    );
    assert_eq!(
        server.get("/tsv").json(),
        json!([{"ticker": "AAPL", "close": 1.5}])
    );
    assert_eq!(
        server.get("/psv").json(),
        json!([{"ticker": "AAPL", "close": 2}])
    );
    assert_eq!(
        server.get("/pipes").json(),
        json!([{"ticker": "AAPL", "close": 3.5}])
    );
}

#[test]
fn compressed_files_are_read_as_their_inner_format() {
    let fixture = Fixture::new();
    fixture
        .write("data/p.csv.gz", gzip(b"ticker,close\nAAPL,1.5\nMSFT,2\n"))
        .write(
            "data/t.tsv.zst",
            zstd::encode_all(&b"ticker\tclose\nNVDA\t3\n"[..], 3).unwrap(),
        )
        .write(
            "data/l.jsonl.gz",
            gzip(b"{\"id\": 1, \"s\": \"a\"}\n{\"id\": 2, \"s\": \"b\"}\n"),
        )
        .write("data/broken.jsonl", "{\"id\": 1}\n{\"id\": 2}\n{oops\n")
        .write(
            "widgets.json",
            widgets(&[
                ("gz", json!({"file": "p.csv.gz"})),
                ("zst", json!({"file": "t.tsv.zst"})),
                ("lines", json!({"file": "l.jsonl.gz"})),
                ("broken", json!({"file": "broken.jsonl"})),
            ]),
        );
    let server = TestServer::start(fixture);
    assert_eq!(
        server.get("/gz?ticker=msft").json(),
        json!([{"ticker": "MSFT", "close": 2.0}])
    );
    assert_eq!(
        server.get("/zst").json(),
        json!([{"ticker": "NVDA", "close": 3}])
    );
    assert_eq!(
        server.get("/lines?s=b").json(),
        json!([{"id": 2, "s": "b"}])
    );
    let broken = server.get("/broken");
    assert_eq!(broken.status, 500);
    assert!(
        broken.detail().starts_with("data/broken.jsonl: line 3"),
        "{}",
        broken.detail()
    );
}

#[test]
fn a_zip_bomb_is_refused_at_the_cap_and_the_server_keeps_serving() {
    let fixture = Fixture::new();
    // 64 MiB of one repeated row packs into a few KB; the cap is 1 MiB.
    let rows = std::io::Read::take(
        std::io::Read::chain(&b"a,b\n"[..], RepeatedRow(0)),
        64 << 20,
    );
    let bomb = zstd::encode_all(rows, 1).unwrap();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    fixture
        .write("data/bomb.csv.zst", &bomb)
        .write("data/ok.csv", "a\n1\n")
        .write(
            "widgets.json",
            widgets(&[
                ("bomb", json!({"file": "bomb.csv.zst"})),
                ("ok", json!({"file": "ok.csv"})),
            ]),
        );
    let mut config = test_config(&fixture.root);
    config.max_decompressed_bytes = 1 << 20;
    let server = TestServer::start_with(fixture, config);
    let started = std::time::Instant::now();
    let refused = server.get("/bomb");
    assert_eq!(refused.status, 500);
    let detail = refused.detail();
    assert!(
        detail.starts_with("data/bomb.csv.zst:") && detail.contains("--max-decompressed-bytes"),
        "{detail}"
    );
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    assert_eq!(server.get("/ok").json(), json!([{"a": 1}]));
}

/// `1,2\n` for ever.
struct RepeatedRow(usize);

impl std::io::Read for RepeatedRow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        for byte in buf.iter_mut() {
            *byte = b"1,2\n"[self.0 % 4];
            self.0 += 1;
        }
        Ok(buf.len())
    }
}

/// A workbook: a sheet with a title row above its header (merged cells), typed cells, a date,
/// a formula and a code written as text; a small second sheet; an empty third.
fn workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    let mut book = Workbook::new();
    let prices = book.add_worksheet().set_name("Prices").unwrap();
    prices
        .merge_range(0, 0, 0, 4, "Daily prices", &Format::new())
        .unwrap();
    for (column, name) in ["date", "ticker", "close", "active", "double"]
        .iter()
        .enumerate()
    {
        prices.write_string(2, column as u16, *name).unwrap();
    }
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    let rows = [
        ("2024-01-02", "007", 185.5, true),
        ("2024-01-03", "MSFT", 370.0, false),
    ];
    for (index, (date, ticker, close, active)) in rows.iter().enumerate() {
        let row = 3 + index as u32;
        let date = ExcelDateTime::parse_from_str(date).unwrap();
        prices
            .write_datetime_with_format(row, 0, &date, &date_format)
            .unwrap();
        prices.write_string(row, 1, *ticker).unwrap();
        prices.write_number(row, 2, *close).unwrap();
        prices.write_boolean(row, 3, *active).unwrap();
        let result = (close * 2.0).to_string();
        let formula = Formula::new(format!("=C{}*2", row + 1)).set_result(result);
        prices.write_formula(row, 4, formula).unwrap();
    }
    let notes = book.add_worksheet().set_name("Notes").unwrap();
    notes.write_string(0, 0, "note").unwrap();
    notes.write_string(1, 0, "hello").unwrap();
    book.add_worksheet().set_name("Empty").unwrap();
    book.save_to_buffer().unwrap()
}

#[test]
fn workbook_sheets_are_typed_tables() {
    let fixture = Fixture::new();
    fixture.write("data/book.xlsx", workbook()).write(
        "widgets.json",
        widgets(&[
            ("first", json!({"file": "book.xlsx"})),
            ("notes", json!({"file": "book.xlsx", "sheet": 1})),
            ("by_name", json!({"file": "book.xlsx", "sheet": "Prices"})),
            ("missing", json!({"file": "book.xlsx", "sheet": "Nope"})),
        ]),
    );
    let server = TestServer::start(fixture);
    let expected = json!([
        {"date": "2024-01-02", "ticker": "007", "close": 185.5, "active": true, "double": 371},
        {"date": "2024-01-03", "ticker": "MSFT", "close": 370.0, "active": false, "double": 740}
    ]);
    assert_eq!(server.get("/first").json(), expected);
    assert_eq!(server.get("/by_name").json(), expected);
    assert_eq!(
        server
            .get("/by_name?ticker=007")
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(server.get("/notes").json(), json!([{"note": "hello"}]));
    let missing = server.get("/missing");
    assert_eq!(missing.status, 500);
    assert!(
        missing.detail().contains("data/book.xlsx")
            && missing.detail().contains("Prices, Notes, Empty"),
        "{}",
        missing.detail()
    );
}

#[test]
fn zero_configuration_makes_one_widget_per_sheet_with_cells() {
    let fixture = Fixture::new();
    fixture.write("data/book.xlsx", workbook());
    let server = TestServer::start(fixture);
    let manifest = server.get("/widgets.json").json();
    let ids: Vec<&String> = manifest.as_object().unwrap().keys().collect();
    assert_eq!(ids, ["book_xlsx_prices", "book_xlsx_notes"]);
    assert_eq!(
        server.get("/book_xlsx_notes").json(),
        json!([{"note": "hello"}])
    );
    let columns = &manifest["book_xlsx_prices"]["data"]["table"]["columnsDefs"];
    assert_eq!(columns[0]["cellDataType"], "date");
    assert_eq!(columns[2]["cellDataType"], "number");
}

#[test]
fn corrupt_truncated_and_encrypted_workbooks_are_clear_errors() {
    let whole = workbook();
    let mut encrypted = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    encrypted.extend([0u8; 504]);
    let fixture = Fixture::new();
    fixture
        .write("data/cut.xlsx", &whole[..whole.len() / 2])
        .write("data/noise.xlsx", b"not a workbook at all")
        .write("data/locked.xlsx", &encrypted)
        .write("data/noise.ods", b"PK\x03\x04 broken")
        .write("data/ok.csv", "a\n1\n")
        .write(
            "widgets.json",
            widgets(&[
                ("cut", json!({"file": "cut.xlsx"})),
                ("noise", json!({"file": "noise.xlsx"})),
                ("locked", json!({"file": "locked.xlsx"})),
                ("ods", json!({"file": "noise.ods"})),
                ("ok", json!({"file": "ok.csv"})),
            ]),
        );
    let server = TestServer::start(fixture);
    for (endpoint, file) in [
        ("cut", "cut.xlsx"),
        ("noise", "noise.xlsx"),
        ("locked", "locked.xlsx"),
        ("ods", "noise.ods"),
    ] {
        let reply = server.get(&format!("/{endpoint}"));
        assert_eq!(reply.status, 500, "{endpoint}");
        assert!(
            reply.detail().starts_with(&format!("data/{file}: ")),
            "{endpoint}: {}",
            reply.detail()
        );
    }
    assert!(server.get("/locked").detail().contains("encrypted"));
    assert_eq!(server.get("/ok").json(), json!([{"a": 1}]));
}

/// A Parquet file of every common column type, nullable, packed with `codec`.
fn parquet_file(codec: parquet::basic::Compression) -> Vec<u8> {
    use parquet::data_type::{
        BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type,
    };
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let schema = parse_message_type(
        "message t {
            required int32 id;
            optional binary ticker (STRING);
            optional double close;
            optional boolean active;
            optional int32 day (DATE);
            optional int64 at (TIMESTAMP(MILLIS,true));
            optional int64 price (DECIMAL(10,2));
            optional binary code (STRING);
        }",
    )
    .unwrap();
    let properties = WriterProperties::builder().set_compression(codec).build();
    let mut out = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut out, Arc::new(schema), Arc::new(properties)).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let defined = [1i16, 0];
    let mut column = |write: &mut dyn FnMut(&mut parquet::column::writer::ColumnWriter<'_>)| {
        let mut next = group.next_column().unwrap().unwrap();
        write(next.untyped());
        next.close().unwrap();
    };
    column(&mut |w| {
        w_typed::<Int32Type>(w, &[1, 2], None);
    });
    column(&mut |w| {
        w_typed::<ByteArrayType>(w, &[ByteArray::from("AAPL")], Some(&defined));
    });
    column(&mut |w| w_typed::<DoubleType>(w, &[185.5], Some(&defined)));
    column(&mut |w| w_typed::<BoolType>(w, &[true], Some(&defined)));
    column(&mut |w| w_typed::<Int32Type>(w, &[19_724], Some(&defined)));
    column(&mut |w| w_typed::<Int64Type>(w, &[1_704_187_800_500], Some(&defined)));
    column(&mut |w| w_typed::<Int64Type>(w, &[12_345], Some(&defined)));
    column(&mut |w| w_typed::<ByteArrayType>(w, &[ByteArray::from("007")], Some(&defined)));
    group.close().unwrap();
    writer.close().unwrap();
    out
}

pub(crate) fn w_typed<T: parquet::data_type::DataType>(
    writer: &mut parquet::column::writer::ColumnWriter<'_>,
    values: &[T::T],
    definitions: Option<&[i16]>,
) {
    parquet::column::writer::get_typed_column_writer_mut::<T>(writer)
        .write_batch(values, definitions, None)
        .unwrap();
}

#[test]
fn parquet_files_are_typed_from_their_schema_with_every_codec() {
    use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
    let codecs = [
        ("plain", Compression::UNCOMPRESSED),
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("lz4", Compression::LZ4_RAW),
        ("brotli", Compression::BROTLI(BrotliLevel::default())),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
    ];
    let fixture = Fixture::new();
    let mut entries = Vec::new();
    for (name, codec) in codecs {
        fixture.write(&format!("data/{name}.parquet"), parquet_file(codec));
        entries.push((name, json!({"file": format!("{name}.parquet")})));
    }
    let cut = parquet_file(Compression::SNAPPY);
    fixture.write("data/cut.parquet", &cut[..cut.len() - 20]);
    entries.push(("cut", json!({"file": "cut.parquet"})));
    fixture.write("widgets.json", widgets(&entries));
    let server = TestServer::start(fixture);
    for (name, _) in codecs {
        assert_eq!(
            server.get(&format!("/{name}")).json(),
            json!([
                {"id": 1, "ticker": "AAPL", "close": 185.5, "active": true, "day": "2024-01-02",
                 "at": "2024-01-02T09:30:00.5", "price": 123.45, "code": "007"},
                {"id": 2, "ticker": null, "close": null, "active": null, "day": null,
                 "at": null, "price": null, "code": null}
            ]),
            "{name}"
        );
    }
    assert_eq!(
        server
            .get("/zstd?ticker=AAPL")
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let cut = server.get("/cut");
    assert_eq!(cut.status, 500);
    assert!(
        cut.detail().starts_with("data/cut.parquet: "),
        "{}",
        cut.detail()
    );
}

#[test]
fn new_formats_work_for_metrics_and_ssrm_tables() {
    let fixture = Fixture::new();
    fixture
        .write("data/p.parquet", parquet_file(parquet::basic::Compression::SNAPPY))
        .write(
            "widgets.json",
            json!({
                "kpi": {"name": "Kpi", "description": "d", "type": "metric", "endpoint": "kpi",
                        "backend": {"file": "p.parquet", "column": "close"}},
                "grid": {"name": "Grid", "description": "d", "type": "ssrm_table", "endpoint": "grid",
                         "backend": {"file": "p.parquet"}}
            })
            .to_string(),
        );
    let server = TestServer::start(fixture);
    let kpi = server.get("/kpi");
    assert_eq!(kpi.status, 200, "{}", kpi.body);
    assert!(kpi.body.contains("185.5"), "{}", kpi.body);
    let grid = server.post("/grid", r#"{"startRow": 0, "endRow": 10}"#);
    assert_eq!(grid.status, 200, "{}", grid.body);
    assert!(grid.body.contains("AAPL"), "{}", grid.body);
}

/// An OpenDocument spreadsheet of `sheets`, each `(name, its table:table-row elements)`.
pub(crate) fn ods(sheets: &[(&str, &str)]) -> Vec<u8> {
    let tables: String = sheets
        .iter()
        .map(|(name, rows)| format!(r#"<table:table table:name="{name}">{rows}</table:table>"#))
        .collect();
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet>{tables}
</office:spreadsheet></office:body></office:document-content>"#
    );
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("META-INF/manifest.xml", stored).unwrap();
    zip.write_all(
        br#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>"#,
    )
    .unwrap();
    zip.start_file("content.xml", stored).unwrap();
    zip.write_all(content.as_bytes()).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

#[test]
fn a_sheet_of_a_million_columns_and_rows_is_refused_before_it_is_expanded() {
    let cell = |text: &str| {
        format!(
            r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
        )
    };
    let small = ods(&[(
        "S",
        &format!(
            "<table:table-row>{}{}</table:table-row><table:table-row>{}{}</table:table-row>\
         <table:table-row table:number-rows-repeated=\"1048000\"><table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>",
            cell("a"),
            cell("b"),
            cell("1"),
            cell("x")
        ),
    )]);
    // A few hundred bytes that stand for a million rows of a million cells.
    let wide = ods(&[(
        "S",
        r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="1000000" office:value-type="float" office:value="1"/></table:table-row>"#,
    )]);
    let fixture = Fixture::new();
    fixture
        .write("data/small.ods", small)
        .write("data/wide.ods", wide)
        .write(
            "widgets.json",
            widgets(&[
                ("small", json!({"file": "small.ods"})),
                ("wide", json!({"file": "wide.ods"})),
            ]),
        );
    let server = TestServer::start(fixture);
    assert_eq!(server.get("/small").json(), json!([{"a": "1", "b": "x"}]));
    let started = std::time::Instant::now();
    let wide = server.get("/wide");
    assert_eq!(wide.status, 500);
    assert!(
        wide.detail().starts_with("data/wide.ods: ") && wide.detail().contains("more than"),
        "{}",
        wide.detail()
    );
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}

#[test]
fn check_reports_the_sheet_line_or_column_of_a_file_that_does_not_read() {
    let parquet = parquet_file(parquet::basic::Compression::SNAPPY);
    let fixture = Fixture::new();
    fixture
        .write("data/book.xlsx", workbook())
        .write("data/t.tsv", "a\tb\n1\t2\n1\t2\t3\n")
        .write("data/l.jsonl.gz", gzip(b"{\"a\": 1}\n{oops}\n"))
        .write("data/cut.parquet", &parquet[..parquet.len() / 2])
        .write(
            "widgets.json",
            widgets(&[
                ("sheet", json!({"file": "book.xlsx", "sheet": "Nope"})),
                ("tsv", json!({"file": "t.tsv"})),
                ("lines", json!({"file": "l.jsonl.gz"})),
                ("cut", json!({"file": "cut.parquet"})),
            ]),
        );
    let (status, text) = crate::support::check_folder(&fixture);
    assert_eq!(status, Some(1), "{text}");
    for expected in [
        "data/book.xlsx: no sheet 'Nope' (the sheets are: Prices, Notes, Empty)",
        "data/t.tsv: line 3: this row has 3 fields but the header has 2",
        "data/l.jsonl.gz: line 2",
        "data/cut.parquet: ",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    assert!(
        // The widget's problem carries the file's own error (main's typed `FileError`).
        text.contains("lines: backend.file: data/l.jsonl.gz: line 2"),
        "{text}"
    );
}
