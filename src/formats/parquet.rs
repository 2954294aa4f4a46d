//! Parquet files as tables, typed from the file's own schema, read column by column.
//!
//! Each leaf column is decoded row group after row group straight into one of our compact
//! columns (the workers take columns in turn), so memory holds the file's bytes, the table and
//! one batch per worker. Numbers and booleans go into the column builder as they are (its typed
//! appends), other values as their text. Types: booleans, integers (also unsigned and decimal ones, which keep
//! their scale), floats and doubles are numbers; strings, enums, JSON and UUIDs are text;
//! dates are `YYYY-MM-DD` and timestamps `YYYY-MM-DDTHH:MM:SS[.fraction]` text (INT96 ones
//! too); other binary values are text as far as they are UTF-8. Nulls are nulls.
//!
//! Invariant: a file that does not decode (truncated, corrupt, a codec the build lacks) is one
//! error naming the column; nested columns (lists, maps, structs) are refused by name, as they
//! are not table cells. Codecs: snappy, gzip, lz4, brotli and zstd.

use std::io::Write as _;
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

/// The most digits after the point of a decimal column: as many as a 128-bit mantissa has.
const MAX_DECIMAL_SCALE: u32 = 38;

/// The table of a whole Parquet file.
pub fn read(bytes: Vec<u8>, caps: &Caps) -> Result<Table, String> {
    let file_bytes = bytes.len() as u64;
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes))
        .map_err(|err| format!("not a readable Parquet file: {err}"))?;
    let metadata = reader.metadata();
    let schema = metadata.file_metadata().schema_descr();
    let width = schema.num_columns();
    if width > caps.columns {
        return Err(format!("{width} columns, more than {}", caps.columns));
    }
    let rows = usize::try_from(metadata.file_metadata().num_rows()).unwrap_or(0);
    // A file may always declare the cap's cells, and a big one as many as it has bytes (a
    // 1 GB export of prices holds about 0.6 a byte): what a small file can declare is bounded,
    // not what a big one honestly holds.
    let allowed = caps.parquet_cells.max(file_bytes);
    if (rows as u64).saturating_mul(width as u64) > allowed {
        return Err(format!(
            "{rows} rows of {width} columns, more than {allowed} cells (at most {} or one a \
             byte of the file)",
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
    // A decimal's scale is its digits after the point, written out for every cell: a footer
    // may declare any, so more than a 128-bit mantissa has digits is refused.
    let scaled = |i: usize| match Kind::of(&schema.column(i)) {
        Kind::Decimal(scale) => scale > MAX_DECIMAL_SCALE,
        _ => false,
    };
    if let Some(column) = (0..width).find(|&i| scaled(i)) {
        return Err(format!(
            "column '{}' is a decimal of scale {}: at most {MAX_DECIMAL_SCALE} digits after \
             the point are read",
            names[column],
            schema.column(column).type_scale()
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

/// One leaf column, all row groups, into a builder: numbers and booleans as they are, other
/// values as their text.
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
    let mut texts = Texts::default();
    let max_definition = descriptor.max_def_level();
    for group in 0..reader.num_row_groups() {
        let group_reader = reader.get_row_group(group)?;
        let declared = usize::try_from(group_reader.metadata().num_rows()).unwrap_or(0);
        let column_reader = group_reader.get_column_reader(column)?;
        let before = builder.len();
        let builder = &mut builder;
        let texts = &mut texts;
        let chunk = Chunk {
            rows: declared,
            max_definition,
        };
        match column_reader {
            ColumnReader::BoolColumnReader(r) => {
                chunk.decode(r, |cells| builder.extend_bools(cells.map(|v| v.copied())))?
            }
            ColumnReader::Int32ColumnReader(r) if kind == Kind::Number => chunk
                .decode(r, |cells| {
                    builder.extend_integers(cells.map(|v| v.map(|&v| i64::from(v))))
                })?,
            ColumnReader::Int32ColumnReader(r) if kind == Kind::Unsigned => chunk
                .decode(r, |cells| {
                    builder.extend_integers(cells.map(|v| v.map(|&v| i64::from(v as u32))))
                })?,
            ColumnReader::Int32ColumnReader(r) => chunk.decode(r, |cells| {
                texts.extend(builder, cells, |out, &v| integer(out, kind, i64::from(v)))
            })?,
            ColumnReader::Int64ColumnReader(r) if kind == Kind::Number => chunk
                .decode(r, |cells| {
                    builder.extend_integers(cells.map(|v| v.copied()))
                })?,
            ColumnReader::Int64ColumnReader(r) => chunk.decode(r, |cells| {
                texts.extend(builder, cells, |out, &v| integer(out, kind, v))
            })?,
            ColumnReader::Int96ColumnReader(r) => chunk.decode(r, |cells| {
                texts.extend(builder, cells, |out, v| {
                    let nanos = v.to_nanos();
                    timestamp(
                        out,
                        nanos.div_euclid(1_000_000_000),
                        nanos.rem_euclid(1_000_000_000) as u32,
                        9,
                    );
                })
            })?,
            ColumnReader::FloatColumnReader(r) => chunk.decode(r, |cells| {
                builder.extend_floats(cells.map(|v| v.map(|&v| f64::from(v))))
            })?,
            ColumnReader::DoubleColumnReader(r) => {
                chunk.decode(r, |cells| builder.extend_floats(cells.map(|v| v.copied())))?
            }
            ColumnReader::ByteArrayColumnReader(r) => chunk.decode(r, |cells| {
                texts.extend(builder, cells, |out, v: &ByteArray| {
                    bytes(out, kind, v.data())
                })
            })?,
            ColumnReader::FixedLenByteArrayColumnReader(r) => chunk.decode(r, |cells| {
                texts.extend(builder, cells, |out, v: &FixedLenByteArray| {
                    bytes(out, kind, v.data())
                })
            })?,
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
    /// An integer stored in a signed type but declared unsigned (`UINT_32`, `UINT_64`): its
    /// bits are read as unsigned.
    Unsigned,
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
            Some(LogicalType::Integer(int)) if !int.is_signed => return Kind::Unsigned,
            Some(LogicalType::String | LogicalType::Enum | LogicalType::Json) => return Kind::Text,
            _ => {}
        }
        match descriptor.converted_type() {
            ConvertedType::DECIMAL => Kind::Decimal(scale),
            ConvertedType::DATE => Kind::Date,
            ConvertedType::TIMESTAMP_MILLIS => Kind::Timestamp(3),
            ConvertedType::TIMESTAMP_MICROS => Kind::Timestamp(6),
            ConvertedType::UINT_8
            | ConvertedType::UINT_16
            | ConvertedType::UINT_32
            | ConvertedType::UINT_64 => Kind::Unsigned,
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

/// One row group's chunk of a column: the rows its footer declares (no more are read) and
/// the definition level of a value that is there.
struct Chunk {
    rows: usize,
    max_definition: i16,
}

impl Chunk {
    /// Decodes the chunk a batch at a time, handing `store` each batch's cells in row order.
    fn decode<T: DataType>(
        &self,
        mut reader: ColumnReaderImpl<T>,
        mut store: impl FnMut(Cells<'_, T::T>),
    ) -> Result<(), parquet::errors::ParquetError> {
        let mut values = Vec::with_capacity(BATCH);
        let mut definitions = Vec::with_capacity(BATCH);
        let mut left = self.rows;
        loop {
            values.clear();
            definitions.clear();
            let levels = (self.max_definition > 0).then_some(&mut definitions);
            let (records, _, _) =
                reader.read_records(BATCH.min(left), levels, None, &mut values)?;
            if records == 0 {
                return Ok(());
            }
            left -= records;
            store(Cells {
                values: values.iter(),
                definitions: (self.max_definition > 0).then(|| definitions.iter()),
                max_definition: self.max_definition,
                rows: records,
            });
        }
    }
}

/// A batch's cells in row order: a value, or `None` where the definition level says there is
/// none (a null).
struct Cells<'a, V> {
    values: std::slice::Iter<'a, V>,
    /// `None` for a required column, whose every row holds a value.
    definitions: Option<std::slice::Iter<'a, i16>>,
    max_definition: i16,
    rows: usize,
}

impl<'a, V> Iterator for Cells<'a, V> {
    type Item = Option<&'a V>;

    #[inline]
    fn next(&mut self) -> Option<Option<&'a V>> {
        self.rows = self.rows.checked_sub(1)?;
        let present = match &mut self.definitions {
            None => true,
            Some(definitions) => definitions.next() == Some(&self.max_definition),
        };
        Some(present.then(|| self.values.next()).flatten())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rows, Some(self.rows))
    }
}

/// The text of a batch's cells back to back, handed to the builder in one run (a cell at a
/// time costs the builder a dispatch each); the buffers are kept from batch to batch. A
/// batch's bytes are checked to be UTF-8 at once (a value at a time costs a call each).
#[derive(Default)]
struct Texts {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Texts {
    /// Adds `cells` to `builder` as the text `write` makes of each value (none for a null).
    fn extend<V>(
        &mut self,
        builder: &mut ColumnBuilder,
        cells: impl Iterator<Item = Option<V>>,
        write: impl Fn(&mut Vec<u8>, V),
    ) {
        self.bytes.clear();
        self.ends.clear();
        for cell in cells {
            if let Some(value) = cell {
                write(&mut self.bytes, value);
            }
            self.ends.push(self.bytes.len());
        }
        let text = match String::from_utf8(std::mem::take(&mut self.bytes)) {
            Ok(text) if self.ends.iter().all(|&end| text.is_char_boundary(end)) => text,
            Ok(text) => self.replace_invalid(text.into_bytes()),
            Err(err) => self.replace_invalid(err.into_bytes()),
        };
        let mut start = 0;
        builder.extend(self.ends.iter().map(|&end| {
            let cell = &text[start..end];
            start = end;
            cell
        }));
        self.bytes = text.into_bytes();
    }

    /// The cells of `bytes` as text, each cell's invalid UTF-8 replaced (with U+FFFD), their
    /// ends moved to match.
    fn replace_invalid(&mut self, bytes: Vec<u8>) -> String {
        let mut text = String::with_capacity(bytes.len());
        let mut start = 0;
        for end in &mut self.ends {
            text.push_str(&String::from_utf8_lossy(&bytes[start..*end]));
            start = *end;
            *end = text.len();
        }
        text
    }
}

/// An integer of a decimal, date or timestamp column as its text.
fn integer(out: &mut Vec<u8>, kind: Kind, value: i64) {
    match kind {
        Kind::Decimal(scale) => decimal(out, i128::from(value), scale),
        Kind::Date => date(out, value),
        Kind::Timestamp(digits) => {
            let per_second = 10i64.pow(digits);
            let fraction = value.rem_euclid(per_second) as u32;
            timestamp(out, value.div_euclid(per_second), fraction, digits);
        }
        // Beyond i64::MAX a UINT_64 is read as its text is: a number too big to be exact.
        Kind::Unsigned => {
            out.extend_from_slice(itoa::Buffer::new().format(value as u64).as_bytes())
        }
        _ => out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes()),
    }
}

/// A binary value as its text: a decimal, a UUID, or its bytes (UTF-8, checked by [`Texts`]).
fn bytes(out: &mut Vec<u8>, kind: Kind, bytes: &[u8]) {
    match kind {
        Kind::Decimal(scale) if bytes.len() <= 16 => {
            // Big-endian two's complement, sign-extended to 128 bits.
            let fill = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                0xFF
            } else {
                0
            };
            let mut wide = [fill; 16];
            wide[16 - bytes.len()..].copy_from_slice(bytes);
            decimal(out, i128::from_be_bytes(wide), scale);
        }
        Kind::Uuid => {
            for (index, byte) in bytes.iter().enumerate() {
                if matches!(index, 4 | 6 | 8 | 10) {
                    out.push(b'-');
                }
                let _ = write!(out, "{byte:02x}");
            }
        }
        _ => out.extend_from_slice(bytes),
    }
}

/// `mantissa` × 10^-scale, written out.
fn decimal(out: &mut Vec<u8>, mantissa: i128, scale: u32) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(mantissa.unsigned_abs()).as_bytes();
    if mantissa < 0 {
        out.push(b'-');
    }
    let scale = scale as usize;
    if scale == 0 {
        out.extend_from_slice(digits);
    } else if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.extend_from_slice(whole);
        out.push(b'.');
        out.extend_from_slice(fraction);
    } else {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + scale - digits.len(), b'0');
        out.extend_from_slice(digits);
    }
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (the proleptic Gregorian calendar).
fn date(out: &mut Vec<u8>, days: i64) {
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
    match year {
        0..=9999 => {
            two_digits(out, year / 100);
            two_digits(out, year % 100);
        }
        _ => {
            let _ = write!(out, "{year:04}");
        }
    }
    out.push(b'-');
    two_digits(out, month);
    out.push(b'-');
    two_digits(out, day);
}

/// Seconds since the epoch and a fraction of `digits` digits as an ISO-8601 date-time; the
/// fraction's trailing zeros are left out.
fn timestamp(out: &mut Vec<u8>, seconds: i64, fraction: u32, digits: u32) {
    date(out, seconds.div_euclid(86_400));
    let second = seconds.rem_euclid(86_400);
    for (separator, part) in [
        (b'T', second / 3600),
        (b':', second / 60 % 60),
        (b':', second % 60),
    ] {
        out.push(separator);
        two_digits(out, part);
    }
    if fraction > 0 {
        let mut buffer = itoa::Buffer::new();
        let written = buffer.format(fraction);
        out.push(b'.');
        out.resize(
            out.len() + (digits as usize).saturating_sub(written.len()),
            b'0',
        );
        out.extend_from_slice(written.trim_end_matches('0').as_bytes());
    }
}

/// `value`, from 0 to 99, as two digits.
fn two_digits(out: &mut Vec<u8>, value: i64) {
    out.push(b'0' + (value / 10) as u8);
    out.push(b'0' + (value % 10) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    /// The values of one required column.
    enum Values<'a> {
        I32(&'a [i32]),
        I64(&'a [i64]),
    }

    /// A file of `schema` (a message type) whose one row group holds `columns`, in order; with
    /// none, a file of no row group.
    fn file(schema: &str, columns: &[Values]) -> Vec<u8> {
        use parquet::data_type::{Int32Type, Int64Type};
        use parquet::file::writer::SerializedFileWriter;
        let schema = parquet::schema::parser::parse_message_type(schema).unwrap();
        let mut out = Vec::new();
        let mut writer =
            SerializedFileWriter::new(&mut out, std::sync::Arc::new(schema), Default::default())
                .unwrap();
        if !columns.is_empty() {
            let mut group = writer.next_row_group().unwrap();
            for values in columns {
                let mut column = group.next_column().unwrap().unwrap();
                match values {
                    Values::I32(v) => column.typed::<Int32Type>().write_batch(v, None, None),
                    Values::I64(v) => column.typed::<Int64Type>().write_batch(v, None, None),
                }
                .unwrap();
                column.close().unwrap();
            }
            group.close().unwrap();
        }
        writer.close().unwrap();
        out
    }

    /// A file of one required integer column holding `values`.
    fn integers(values: &[i64]) -> Vec<u8> {
        file("message t { required int64 n; }", &[Values::I64(values)])
    }

    #[test]
    fn the_cells_a_footer_declares_are_bounded_before_anything_is_decoded() {
        // 100,000 equal values: one run-length-encoded run, a file of a few hundred bytes.
        let packed = integers(&[7; 100_000]);
        assert!(packed.len() < 1000, "{} bytes", packed.len());
        assert_eq!(
            read(packed.clone(), &Caps::default()).unwrap().rows(),
            100_000
        );
        let small = Caps {
            parquet_cells: 999,
            ..Caps::default()
        };
        let err = read(packed.clone(), &small).unwrap_err();
        assert_eq!(
            err,
            "100000 rows of 1 columns, more than 999 cells (at most 999 or one a byte of the \
             file)"
        );
        // A file with more bytes than cells may declare them all, beyond the cap.
        let plain = integers(&(0..2000).map(|n| n * 1_000_003).collect::<Vec<_>>());
        assert!(plain.len() > 2000, "{} bytes", plain.len());
        assert_eq!(read(plain, &small).unwrap().rows(), 2000);
    }

    #[test]
    fn a_decimal_scale_beyond_38_digits_is_refused_by_name() {
        let out = file(
            "message t { required binary d (DECIMAL(2000000000, 1000000000)); }",
            &[],
        );
        assert_eq!(
            read(out, &Caps::default()).unwrap_err(),
            "column 'd' is a decimal of scale 1000000000: at most 38 digits after the point are \
             read"
        );
    }

    #[test]
    fn unsigned_integers_read_as_unsigned() {
        let out = file(
            "message t { required int32 small (UINT_32); required int64 big (UINT_64); }",
            &[
                Values::I32(&[7, u32::MAX as i32]),
                Values::I64(&[7, u64::MAX as i64]),
            ],
        );
        let table = read(out, &Caps::default()).unwrap();
        use crate::table::Cell;
        assert_eq!(table.cell(0, 0), Cell::Int(7));
        assert_eq!(table.cell(1, 0), Cell::Int(i64::from(u32::MAX)));
        // Beyond i64, the column is read as the same numbers in a CSV are: floats.
        assert_eq!(table.cell(0, 1), Cell::Float(7.0));
        assert_eq!(table.cell(1, 1), Cell::Float(u64::MAX as f64));
    }

    #[test]
    fn text_cells_are_checked_to_be_utf8_each_on_its_own() {
        // `€` is E2 82 AC: split between two cells, the batch is UTF-8 but neither cell is.
        let values: [&[u8]; 4] = [b"ok", &[0xE2, 0x82], &[0xAC], b"\xFFx"];
        let mut builder = ColumnBuilder::text(values.len());
        Texts::default().extend(&mut builder, values.iter().map(Some), |out, value| {
            bytes(out, Kind::Text, value)
        });
        let table = Table::new(vec!["t".into()], vec![builder]);
        let cells: Vec<_> = (0..4).map(|row| table.cell(row, 0)).collect();
        let replaced = crate::table::Cell::Text("\u{FFFD}");
        assert_eq!(
            cells,
            [
                crate::table::Cell::Text("ok"),
                replaced,
                replaced,
                crate::table::Cell::Text("\u{FFFD}x")
            ]
        );
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
        assert_eq!(
            written(|o| timestamp(o, 0, 5_000, 9)),
            "1970-01-01T00:00:00.000005"
        );
        assert_eq!(written(|o| date(o, 2_932_897)), "10000-01-01");
        assert_eq!(written(|o| date(o, -719_529)), "-001-12-31");
        assert_eq!(written(|o| decimal(o, 12_345, 2)), "123.45");
        assert_eq!(written(|o| decimal(o, -5, 3)), "-0.005");
        assert_eq!(written(|o| decimal(o, 7, 0)), "7");
    }
}
