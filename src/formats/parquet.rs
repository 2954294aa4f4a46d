//! Parquet files as tables, typed from the file's own schema, read column by column.
//!
//! Each leaf column is decoded row group after row group straight into one of our compact
//! columns (the workers take columns in turn), so memory holds the file's bytes, the table and
//! one batch per worker. Types: booleans, integers (also unsigned and decimal ones, which keep
//! their scale), floats and doubles are numbers; strings, enums, JSON and UUIDs are text;
//! dates are `YYYY-MM-DD` and timestamps `YYYY-MM-DDTHH:MM:SS[.fraction]` text (INT96 ones
//! too); other binary values are text as far as they are UTF-8. Nulls are nulls.
//!
//! Invariant: a file that does not decode (truncated, corrupt, a codec the build lacks) is one
//! error naming the column; nested columns (lists, maps, structs) are refused by name, as they
//! are not table cells. Codecs: snappy, gzip, lz4, brotli and zstd.

use std::fmt::Write as _;
use std::sync::Mutex;

use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType, FixedLenByteArray};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;

use super::Caps;
use crate::table::{ColumnBuilder, Table};

/// Records decoded at once per column.
const BATCH: usize = 64 * 1024;

/// The table of a whole Parquet file.
pub fn read(bytes: Vec<u8>, caps: &Caps) -> Result<Table, String> {
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes))
        .map_err(|err| format!("not a readable Parquet file: {err}"))?;
    let metadata = reader.metadata();
    let schema = metadata.file_metadata().schema_descr();
    let width = schema.num_columns();
    if width > caps.columns {
        return Err(format!("{width} columns, more than {}", caps.columns));
    }
    let rows = usize::try_from(metadata.file_metadata().num_rows()).unwrap_or(0);
    if (rows as u64).saturating_mul(width as u64) > caps.parquet_cells {
        return Err(format!(
            "{rows} rows of {width} columns, more than {} cells",
            caps.parquet_cells
        ));
    }
    let names: Vec<String> = (0..width)
        .map(|i| schema.column(i).path().string())
        .collect();
    if let Some(nested) = (0..width).find(|&i| schema.column(i).max_rep_level() > 0) {
        return Err(format!(
            "column '{}' is nested (a list or map): only flat columns are table columns",
            names[nested]
        ));
    }
    let next = Mutex::new(0usize);
    let done: Mutex<Vec<Option<Result<ColumnBuilder, String>>>> =
        Mutex::new((0..width).map(|_| None).collect());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    std::thread::scope(|scope| {
        for _ in 0..workers.min(width) {
            scope.spawn(|| {
                loop {
                    let column = {
                        let mut next = next.lock().unwrap_or_else(|p| p.into_inner());
                        let column = *next;
                        *next += 1;
                        column
                    };
                    if column >= width {
                        return;
                    }
                    let built = read_column(&reader, column, rows)
                        .map_err(|err| format!("column '{}': {err}", names[column]));
                    done.lock().unwrap_or_else(|p| p.into_inner())[column] = Some(built);
                }
            });
        }
    });
    let columns = done
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|built| built.unwrap_or_else(|| Err("not read".to_string())))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Table::new(unique(names), columns))
}

/// Column paths made unique (a flat file's are already).
fn unique(names: Vec<String>) -> Vec<String> {
    let mut taken: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let mut candidate = name.clone();
        let mut suffix = 0;
        while taken.contains(&candidate) {
            suffix += 1;
            candidate = format!("{name}.{suffix}");
        }
        taken.push(candidate);
    }
    taken
}

/// One leaf column, all row groups, into a builder.
fn read_column(
    reader: &SerializedFileReader<bytes::Bytes>,
    column: usize,
    rows: usize,
) -> Result<ColumnBuilder, parquet::errors::ParquetError> {
    let descriptor = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .column(column);
    let kind = Kind::of(&descriptor);
    let mut builder = match kind.is_text() {
        true => ColumnBuilder::text(rows),
        false => ColumnBuilder::with_capacity(rows),
    };
    for group in 0..reader.num_row_groups() {
        let group_reader = reader.get_row_group(group)?;
        let declared = usize::try_from(group_reader.metadata().num_rows()).unwrap_or(0);
        let column_reader = group_reader.get_column_reader(column)?;
        let max_definition = descriptor.max_def_level();
        let before = builder.len();
        let mut cells = Cells {
            left: declared,
            builder: &mut builder,
            text: String::new(),
            kind,
        };
        match column_reader {
            ColumnReader::BoolColumnReader(r) => decode(r, max_definition, &mut cells, |c, v| {
                c.text.push_str(if *v { "true" } else { "false" })
            })?,
            ColumnReader::Int32ColumnReader(r) => decode(r, max_definition, &mut cells, |c, v| {
                c.integer(i64::from(*v))
            })?,
            ColumnReader::Int64ColumnReader(r) => {
                decode(r, max_definition, &mut cells, |c, v| c.integer(*v))?
            }
            ColumnReader::Int96ColumnReader(r) => decode(r, max_definition, &mut cells, |c, v| {
                let nanos = v.to_nanos();
                timestamp(
                    &mut c.text,
                    nanos.div_euclid(1_000_000_000),
                    nanos.rem_euclid(1_000_000_000) as u32,
                    9,
                );
            })?,
            ColumnReader::FloatColumnReader(r) => {
                decode(r, max_definition, &mut cells, |c, v| c.float(f64::from(*v)))?
            }
            ColumnReader::DoubleColumnReader(r) => {
                decode(r, max_definition, &mut cells, |c, v| c.float(*v))?
            }
            ColumnReader::ByteArrayColumnReader(r) => {
                decode(r, max_definition, &mut cells, |c, v: &ByteArray| {
                    c.bytes(v.data())
                })?
            }
            ColumnReader::FixedLenByteArrayColumnReader(r) => {
                decode(r, max_definition, &mut cells, |c, v: &FixedLenByteArray| {
                    c.bytes(v.data())
                })?
            }
        }
        // Every column must hold the rows the footer declares (a table's invariant).
        if builder.len() - before != declared {
            return Err(parquet::errors::ParquetError::General(format!(
                "row group {group} holds {} values, its footer says {declared} rows",
                builder.len() - before
            )));
        }
    }
    Ok(builder)
}

/// How a column's values read as cells.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number,
    /// An integer with this many decimals.
    Decimal(u32),
    Date,
    /// A timestamp in units of 10^-digits seconds.
    Timestamp(u32),
    Text,
    Uuid,
}

impl Kind {
    fn of(descriptor: &ColumnDescriptor) -> Kind {
        let scale = u32::try_from(descriptor.type_scale()).unwrap_or(0);
        match descriptor.logical_type_ref() {
            Some(LogicalType::Decimal(_)) => return Kind::Decimal(scale),
            Some(LogicalType::Date) => return Kind::Date,
            Some(LogicalType::Timestamp(stamp)) => {
                return Kind::Timestamp(match stamp.unit {
                    TimeUnit::MILLIS => 3,
                    TimeUnit::MICROS => 6,
                    TimeUnit::NANOS => 9,
                });
            }
            Some(LogicalType::Uuid) => return Kind::Uuid,
            Some(LogicalType::String | LogicalType::Enum | LogicalType::Json) => return Kind::Text,
            _ => {}
        }
        match descriptor.converted_type() {
            ConvertedType::DECIMAL => Kind::Decimal(scale),
            ConvertedType::DATE => Kind::Date,
            ConvertedType::TIMESTAMP_MILLIS => Kind::Timestamp(3),
            ConvertedType::TIMESTAMP_MICROS => Kind::Timestamp(6),
            _ => match descriptor.physical_type() {
                PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY => Kind::Text,
                PhysicalType::INT96 => Kind::Timestamp(9),
                _ => Kind::Number,
            },
        }
    }

    fn is_text(self) -> bool {
        matches!(
            self,
            Kind::Date | Kind::Timestamp(_) | Kind::Text | Kind::Uuid
        )
    }
}

/// The column being filled, the rows of its row group still to read (no more are read than
/// the footer declares), and the text of the cells of a batch, back to back.
struct Cells<'a> {
    left: usize,
    builder: &'a mut ColumnBuilder,
    text: String,
    kind: Kind,
}

impl Cells<'_> {
    fn integer(&mut self, value: i64) {
        match self.kind {
            Kind::Decimal(scale) => decimal(&mut self.text, i128::from(value), scale),
            Kind::Date => date(&mut self.text, value),
            Kind::Timestamp(digits) => {
                let per_second = 10i64.pow(digits);
                let fraction = value.rem_euclid(per_second) as u32;
                timestamp(
                    &mut self.text,
                    value.div_euclid(per_second),
                    fraction,
                    digits,
                );
            }
            _ => self.text.push_str(itoa::Buffer::new().format(value)),
        }
    }

    fn float(&mut self, value: f64) {
        if value.is_finite() {
            float(&mut self.text, value);
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        match self.kind {
            Kind::Decimal(scale) if bytes.len() <= 16 => {
                // Big-endian two's complement, sign-extended to 128 bits.
                let fill = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                    0xFF
                } else {
                    0
                };
                let mut wide = [fill; 16];
                wide[16 - bytes.len()..].copy_from_slice(bytes);
                decimal(&mut self.text, i128::from_be_bytes(wide), scale);
            }
            Kind::Uuid => {
                for (index, byte) in bytes.iter().enumerate() {
                    if matches!(index, 4 | 6 | 8 | 10) {
                        self.text.push('-');
                    }
                    let _ = write!(self.text, "{byte:02x}");
                }
            }
            _ => match std::str::from_utf8(bytes) {
                Ok(text) => self.text.push_str(text),
                Err(_) => self.text.push_str(&String::from_utf8_lossy(bytes)),
            },
        }
    }
}

/// Decodes one column chunk: `cell` appends each value's text to `cells.text`; a value missing
/// at its definition level is a null. A batch's cells are written back to back, then handed to
/// the builder in one run (a cell at a time costs the builder a dispatch each).
fn decode<T: DataType>(
    mut reader: ColumnReaderImpl<T>,
    max_definition: i16,
    cells: &mut Cells<'_>,
    cell: impl Fn(&mut Cells<'_>, &T::T),
) -> Result<(), parquet::errors::ParquetError> {
    let mut values = Vec::with_capacity(BATCH);
    let mut definitions = Vec::with_capacity(BATCH);
    let mut ends = Vec::with_capacity(BATCH);
    loop {
        values.clear();
        definitions.clear();
        let levels = (max_definition > 0).then_some(&mut definitions);
        let (records, _, _) =
            reader.read_records(BATCH.min(cells.left), levels, None, &mut values)?;
        if records == 0 {
            return Ok(());
        }
        cells.left -= records;
        let mut next_value = values.iter();
        cells.text.clear();
        ends.clear();
        for row in 0..records {
            let present = max_definition == 0 || definitions.get(row) == Some(&max_definition);
            if present && let Some(value) = next_value.next() {
                cell(cells, value);
            }
            ends.push(cells.text.len());
        }
        let Cells { builder, text, .. } = cells;
        let mut start = 0;
        builder.extend(ends.iter().map(|&end| {
            let cell = &text[start..end];
            start = end;
            cell
        }));
    }
}

/// A finite float as the shortest text that reads back as it. Prices and rates mostly have a
/// few decimals: when `value` is `m / 10^k` for a whole `m` and `k` up to 6 (checked exactly:
/// the division is correctly rounded, as reading the text back is), it is written from `m`,
/// several times faster than the general shortest-digits algorithm (ryu) used otherwise.
fn float(out: &mut String, value: f64) {
    let mut power = 1.0;
    for digits in 0..=6 {
        let scaled = (value * power).round();
        if scaled.abs() < 1e15
            && scaled / power == value
            && !(value == 0.0 && value.is_sign_negative())
        {
            decimal(out, scaled as i128, digits);
            return;
        }
        power *= 10.0;
    }
    out.push_str(ryu::Buffer::new().format_finite(value));
}

/// `mantissa` × 10^-scale, written out.
fn decimal(out: &mut String, mantissa: i128, scale: u32) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(mantissa.unsigned_abs());
    if mantissa < 0 {
        out.push('-');
    }
    let scale = scale as usize;
    if scale == 0 {
        out.push_str(digits);
    } else if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else {
        out.push_str("0.");
        (0..scale - digits.len()).for_each(|_| out.push('0'));
        out.push_str(digits);
    }
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (the proleptic Gregorian calendar).
fn date(out: &mut String, days: i64) {
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let _ = write!(out, "{year:04}-{month:02}-{day:02}");
}

/// Seconds since the epoch and a fraction of `digits` digits as an ISO-8601 date-time; the
/// fraction's trailing zeros are left out.
fn timestamp(out: &mut String, seconds: i64, fraction: u32, digits: u32) {
    date(out, seconds.div_euclid(86_400));
    let second = seconds.rem_euclid(86_400);
    let _ = write!(
        out,
        "T{:02}:{:02}:{:02}",
        second / 3600,
        second / 60 % 60,
        second % 60
    );
    if fraction > 0 {
        let text = format!("{fraction:0width$}", width = digits as usize);
        let _ = write!(out, ".{}", text.trim_end_matches('0'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(write: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        write(&mut out);
        out
    }

    /// A file of `rows` rows of one required integer column.
    fn integers(rows: i64) -> Vec<u8> {
        use parquet::file::writer::SerializedFileWriter;
        let schema =
            parquet::schema::parser::parse_message_type("message t { required int64 n; }").unwrap();
        let mut out = Vec::new();
        let mut writer =
            SerializedFileWriter::new(&mut out, std::sync::Arc::new(schema), Default::default())
                .unwrap();
        let mut group = writer.next_row_group().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        column
            .typed::<parquet::data_type::Int64Type>()
            .write_batch(&(0..rows).collect::<Vec<_>>(), None, None)
            .unwrap();
        column.close().unwrap();
        group.close().unwrap();
        writer.close().unwrap();
        out
    }

    #[test]
    fn the_cells_a_footer_declares_are_bounded_before_anything_is_decoded() {
        let file = integers(1000);
        assert_eq!(read(file.clone(), &Caps::default()).unwrap().rows(), 1000);
        let small = Caps {
            parquet_cells: 999,
            ..Caps::default()
        };
        let err = read(file, &small).unwrap_err();
        assert_eq!(err, "1000 rows of 1 columns, more than 999 cells");
    }

    #[test]
    fn dates_timestamps_and_decimals_are_written_out() {
        assert_eq!(written(|o| date(o, 0)), "1970-01-01");
        assert_eq!(written(|o| date(o, 19_724)), "2024-01-02");
        assert_eq!(written(|o| date(o, -1)), "1969-12-31");
        assert_eq!(written(|o| date(o, 11_016)), "2000-02-29");
        assert_eq!(
            written(|o| timestamp(o, 1_704_187_800, 500, 3)),
            "2024-01-02T09:30:00.5"
        );
        assert_eq!(written(|o| timestamp(o, -1, 0, 6)), "1969-12-31T23:59:59");
        assert_eq!(written(|o| decimal(o, 12_345, 2)), "123.45");
        assert_eq!(written(|o| decimal(o, -5, 3)), "-0.005");
        assert_eq!(written(|o| decimal(o, 7, 0)), "7");
        for value in [
            185.37,
            0.1,
            -2.5,
            3.0,
            1e-7,
            123_456.789_012,
            1e300,
            -0.0,
            0.0,
            2.0f64.sqrt(),
        ] {
            let text = written(|o| float(o, value));
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                value.to_bits(),
                "{text}"
            );
        }
        assert_eq!(written(|o| float(o, 185.37)), "185.37");
        assert_eq!(written(|o| float(o, 3.0)), "3");
    }
}
