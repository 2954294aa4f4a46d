//! Writes the prices CSV of `bench/make_big_csv.py` (date,ticker,open,high,low,close,volume) as
//! Parquet, the way an export would (snappy, dictionary encoding, row groups of a million
//! rows), for the Parquet benchmark in BENCHMARKS.md: `load_csv` then loads either file.
//! Another codec (`zstd`, `gzip`, `lz4`, `none`) or plain encoding (`plain`: no dictionary
//! pages) can be asked for, to measure what they cost a load.
//!
//! Usage: csv_to_parquet IN.csv OUT.parquet [snappy|zstd|gzip|lz4|none] [plain]

use std::io::{BufRead, BufReader};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

const GROUP_ROWS: usize = 1 << 20;

/// One row group's columns.
#[derive(Default)]
struct Group {
    dates: Vec<ByteArray>,
    tickers: Vec<ByteArray>,
    prices: [Vec<f64>; 4],
    volumes: Vec<i64>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (input, output) = match (args.next(), args.next()) {
        (Some(input), Some(output)) => (input, output),
        _ => panic!("usage: csv_to_parquet IN.csv OUT.parquet"),
    };
    let schema = parse_message_type(
        "message prices {
            required binary date (STRING); required binary ticker (STRING);
            required double open; required double high; required double low;
            required double close; required int64 volume;
        }",
    )
    .expect("the schema");
    let codec = match args.next().as_deref() {
        None | Some("snappy") => Compression::SNAPPY,
        Some("zstd") => Compression::ZSTD(Default::default()),
        Some("gzip") => Compression::GZIP(Default::default()),
        Some("lz4") => Compression::LZ4_RAW,
        Some("none") => Compression::UNCOMPRESSED,
        Some(other) => panic!("unknown codec {other}"),
    };
    let dictionary = match args.next().as_deref() {
        None => true,
        Some("plain") => false,
        Some(other) => panic!("unknown encoding {other}"),
    };
    let properties = WriterProperties::builder()
        .set_compression(codec)
        .set_dictionary_enabled(dictionary)
        .build();
    let file = std::fs::File::create(&output).expect("the output");
    let mut writer =
        SerializedFileWriter::new(file, Arc::new(schema), Arc::new(properties)).expect("a writer");
    let mut lines =
        BufReader::with_capacity(1 << 20, std::fs::File::open(&input).expect("the input")).lines();
    lines.next(); // the header
    let mut group = Group::default();
    let mut rows = 0usize;
    for line in lines {
        let line = line.expect("a line");
        let fields: Vec<&str> = line.split(',').collect();
        group.dates.push(ByteArray::from(fields[0]));
        group.tickers.push(ByteArray::from(fields[1]));
        for (column, field) in group.prices.iter_mut().zip(&fields[2..6]) {
            column.push(field.parse().expect("a price"));
        }
        group.volumes.push(fields[6].parse().expect("a volume"));
        rows += 1;
        if group.volumes.len() == GROUP_ROWS {
            write_group(&mut writer, std::mem::take(&mut group));
        }
    }
    if !group.volumes.is_empty() {
        write_group(&mut writer, group);
    }
    writer.close().expect("the footer");
    println!("{rows} rows written to {output}");
}

fn write_group(writer: &mut SerializedFileWriter<std::fs::File>, group: Group) {
    let mut row_group = writer.next_row_group().expect("a row group");
    for texts in [&group.dates, &group.tickers] {
        let mut column = row_group
            .next_column()
            .expect("a column")
            .expect("a column");
        column
            .typed::<ByteArrayType>()
            .write_batch(texts, None, None)
            .expect("written");
        column.close().expect("closed");
    }
    for prices in &group.prices {
        let mut column = row_group
            .next_column()
            .expect("a column")
            .expect("a column");
        column
            .typed::<DoubleType>()
            .write_batch(prices, None, None)
            .expect("written");
        column.close().expect("closed");
    }
    let mut column = row_group
        .next_column()
        .expect("a column")
        .expect("a column");
    column
        .typed::<Int64Type>()
        .write_batch(&group.volumes, None, None)
        .expect("written");
    column.close().expect("closed");
    row_group.close().expect("closed");
}
