//! Delimited text beyond commas: the separator detected from the header and first rows, and
//! decimal commas (`1,5`) read as numbers where a column is written that way throughout.
//!
//! Detection looks at the first [`SAMPLE_LINES`] records (quotes respected): of comma,
//! semicolon, tab and pipe, the separator is the one that splits the header and every sampled
//! row into the same number of fields (rows may be shorter), the most fields winning, and
//! comma on a tie or when none is consistent. A decimal-comma column is one whose sampled cells
//! are all integers or `-?digits,digits`, at least one with the comma; in such a column a cell
//! written that way is read with a decimal point (`1,5` → 1.5) and every other cell as written.

/// The separators detection chooses from, in order of preference on a tie.
pub const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
/// Records looked at to detect the separator and the decimal-comma columns.
pub const SAMPLE_LINES: usize = 50;

/// The separator of the text starting `sample` (a BOM already skipped).
pub fn detect_delimiter(sample: &[u8]) -> u8 {
    let counts = field_counts(sample);
    let Some((header, rows)) = counts.split_first() else {
        return b',';
    };
    let consistent = |index: usize| {
        header[index] > 0
            && rows.iter().all(|row| row[index] <= header[index])
            && (rows.is_empty() || rows.iter().any(|row| row[index] == header[index]))
    };
    (0..CANDIDATES.len())
        .filter(|&index| consistent(index))
        .max_by_key(|&index| (header[index], usize::MAX - index))
        .map_or(b',', |index| CANDIDATES[index])
}

/// For each of the first records of `sample`, how many of each candidate separator it holds
/// outside quotes (blank lines skipped; a record cut off by the sample's end left out).
fn field_counts(sample: &[u8]) -> Vec<[usize; 4]> {
    let mut records = Vec::new();
    let mut counts = [0usize; 4];
    let mut inside_quotes = false;
    let mut blank = true;
    for &byte in sample {
        match byte {
            b'"' => inside_quotes = !inside_quotes,
            b'\n' if !inside_quotes => {
                if !blank {
                    records.push(counts);
                    if records.len() == SAMPLE_LINES {
                        break;
                    }
                }
                counts = [0; 4];
                blank = true;
                continue;
            }
            _ if inside_quotes => {}
            _ => {
                if let Some(index) = CANDIDATES.iter().position(|&c| c == byte) {
                    counts[index] += 1;
                }
            }
        }
        if !byte.is_ascii_whitespace() {
            blank = false;
        }
    }
    records
}

/// Whether `cell` is a number written with a decimal comma: `-?digits,digits`.
pub fn is_decimal_comma(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    match digits.split_once(',') {
        Some((whole, fraction)) => all_digits(whole) && all_digits(fraction),
        None => false,
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Which of `width` columns are decimal-comma columns, from sampled records' trimmed cells.
pub fn decimal_comma_columns<'a>(
    width: usize,
    records: impl Iterator<Item = Vec<&'a str>>,
) -> Vec<bool> {
    // Per column: some cell has a decimal comma; some cell is neither that nor an integer.
    let mut seen = vec![(false, false); width];
    for record in records {
        for (column, cell) in seen.iter_mut().zip(record) {
            if is_decimal_comma(cell) {
                column.0 = true;
            } else if !cell.is_empty() && !all_digits(cell.strip_prefix('-').unwrap_or(cell)) {
                column.1 = true;
            }
        }
    }
    seen.into_iter()
        .map(|(comma, other)| comma && !other)
        .collect()
}

/// `cell` with its decimal comma read as a point when it is written that way, into `buffer`.
pub fn with_decimal_point<'a>(cell: &'a str, buffer: &'a mut String) -> &'a str {
    match cell.split_once(',') {
        Some((whole, fraction)) if is_decimal_comma(cell) => {
            buffer.clear();
            buffer.push_str(whole);
            buffer.push('.');
            buffer.push_str(fraction);
            buffer
        }
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_separator_is_the_one_that_splits_every_row_alike() {
        assert_eq!(detect_delimiter(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_delimiter(b"a;b;c\n1,5;2;3\n4;5,5;6\n"), b';');
        assert_eq!(detect_delimiter(b"a\tb\n1\t2\n"), b'\t');
        assert_eq!(detect_delimiter(b"a|b|c\n1|2|3\n"), b'|');
        // Commas inside quotes do not count; a header alone decides by itself.
        assert_eq!(detect_delimiter(b"name;note\nx;\"a, b, c\"\n"), b';');
        assert_eq!(detect_delimiter(b"a;b\n"), b';');
        // One column: no separator, comma.
        assert_eq!(detect_delimiter(b"close\n1\n2\n"), b',');
        assert_eq!(detect_delimiter(b""), b',');
        // A row cut off by the end of the sample is not counted.
        assert_eq!(detect_delimiter(b"a;b\n1;2\n3"), b';');
        // Short rows are padded later: they do not spoil detection.
        assert_eq!(detect_delimiter(b"a|b|c\n1|2\n1|2|3\n"), b'|');
    }

    #[test]
    fn decimal_comma_columns_are_consistent_in_the_sample() {
        let records = [
            vec!["1,5", "x", "2", "1,5"],
            vec!["-3", "y", "3", "n/a"],
            vec!["", "z", "4,25", "2"],
        ];
        assert_eq!(
            decimal_comma_columns(4, records.iter().cloned()),
            [true, false, true, false]
        );
        let mut buffer = String::new();
        assert_eq!(with_decimal_point("-1,25", &mut buffer), "-1.25");
        assert_eq!(with_decimal_point("1,2,3", &mut buffer), "1,2,3");
        assert_eq!(with_decimal_point("abc", &mut buffer), "abc");
        assert!(!is_decimal_comma(",5") && !is_decimal_comma("5,") && !is_decimal_comma("1.000,5"));
    }
}
