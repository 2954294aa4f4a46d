//! Reading number and boolean cells: integers, decimals in JSON's grammar (a plain decimal in
//! one pass, correctly rounded), `true`/`false`, and the spellings of "not a number".

/// A cell of a decimal column: a number, or NaN (null) for empty and non-finite spellings.
#[inline(always)]
pub(super) fn number(cell: &str) -> Option<f64> {
    if cell.is_empty() {
        return Some(f64::NAN);
    }
    parse_decimal(cell).or_else(|| is_non_finite(cell).then_some(f64::NAN))
}

/// A number written as `-?digits(.digits)?` without a leading zero, read in one pass.
pub(super) struct Plain {
    negative: bool,
    /// All digits, the fraction's included, as one integer (at most 19 digits).
    mantissa: u64,
    pub(super) fraction_digits: usize,
    has_point: bool,
}

impl Plain {
    /// This number's mantissa at `scale` decimals, when it has no more decimals than that, the
    /// mantissa fits 32 bits, and it is not a negative zero (which reads back as `-0.0`).
    #[inline(always)]
    pub(super) fn mantissa_at(&self, scale: u32) -> Option<i32> {
        let magnitude = match scale.checked_sub(self.fraction_digits as u32)? {
            0 => self.mantissa,
            up => self.mantissa.checked_mul(10u64.checked_pow(up)?)?,
        };
        match (self.negative, i32::try_from(magnitude).ok()?) {
            (true, 0) => None,
            (true, magnitude) => Some(-magnitude),
            (false, magnitude) => Some(magnitude),
        }
    }
}

#[inline(always)]
pub(super) fn scan_plain(cell: &str) -> Option<Plain> {
    let bytes = cell.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut mantissa = 0;
    let int_digits = add_digits(digits, &mut mantissa);
    let fraction_digits = match &digits[int_digits..] {
        [] => None,
        [b'.', fraction @ ..] => match add_digits(fraction, &mut mantissa) {
            count if count > 0 && count == fraction.len() => Some(count),
            _ => return None,
        },
        _ => return None,
    };
    let leading_zero = int_digits > 1 && digits[0] == b'0';
    if int_digits == 0 || leading_zero || int_digits + fraction_digits.unwrap_or(0) > 19 {
        return None;
    }
    Some(Plain {
        negative,
        mantissa,
        fraction_digits: fraction_digits.unwrap_or(0),
        has_point: fraction_digits.is_some(),
    })
}

/// Adds the leading decimal digits of `bytes` to `mantissa` (times ten for each) and returns
/// how many there were. Past 19 digits in all the mantissa wraps: callers reject that many.
#[inline(always)]
fn add_digits(bytes: &[u8], mantissa: &mut u64) -> usize {
    for (count, byte) in bytes.iter().enumerate() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return count;
        }
        *mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(digit));
    }
    bytes.len()
}

/// An integer without a sign other than `-`, without leading zeros, that fits an `i64`.
#[inline(always)]
pub(super) fn parse_int(cell: &str) -> Option<i64> {
    let plain = scan_plain(cell).filter(|p| !p.has_point)?;
    if plain.negative {
        0i64.checked_sub_unsigned(plain.mantissa)
    } else {
        i64::try_from(plain.mantissa).ok()
    }
}

/// A decimal in JSON's number grammar (`-1.5`, `2e-3`), finite. Inlined into the loops over
/// cells: the common plain decimal is read there; exponents and long mantissas are not.
#[inline(always)]
fn parse_decimal(cell: &str) -> Option<f64> {
    if let Some(plain) = scan_plain(cell)
        && plain.mantissa < 1 << 53
    {
        // Exact: the mantissa fits an f64 and 10^k is exact, so one correctly rounded division
        // gives the correctly rounded value (Clinger's fast path).
        let value = plain.mantissa as f64 / POWERS_OF_TEN[plain.fraction_digits];
        return Some(if plain.negative { -value } else { value });
    }
    parse_other_decimal(cell)
}

/// [`parse_decimal`] of what is not a plain decimal with at most 15 digits.
#[inline(never)]
fn parse_other_decimal(cell: &str) -> Option<f64> {
    let bytes = cell.strip_prefix('-').unwrap_or(cell).as_bytes();
    let int_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if int_len == 0 || (int_len > 1 && bytes[0] == b'0') {
        return None;
    }
    let mut rest = &bytes[int_len..];
    if let Some(after_point) = rest.strip_prefix(b".") {
        let len = after_point
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if len == 0 {
            return None;
        }
        rest = &after_point[len..];
    }
    if let Some(exponent) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let exponent = exponent
            .strip_prefix(b"+")
            .or_else(|| exponent.strip_prefix(b"-"))
            .unwrap_or(exponent);
        if exponent.is_empty() || !exponent.iter().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest = &[];
    }
    if !rest.is_empty() {
        return None;
    }
    cell.parse::<f64>().ok().filter(|value| value.is_finite())
}

pub(super) const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

pub(super) fn parse_bool(cell: &str) -> Option<bool> {
    match cell {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Spellings that mean "not a number" in a number column (pandas and spreadsheets write these),
/// plus decimals too large for an `f64`.
#[inline(never)]
fn is_non_finite(cell: &str) -> bool {
    const SPELLINGS: [&str; 12] = [
        "nan",
        "-nan",
        "inf",
        "-inf",
        "+inf",
        "infinity",
        "-infinity",
        "+infinity",
        "null",
        "n/a",
        "#n/a",
        "na",
    ];
    SPELLINGS.iter().any(|s| s.eq_ignore_ascii_case(cell))
        || (cell.parse::<f64>().is_ok_and(|v| v.is_infinite()) && parse_int(cell).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_spellings() {
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_int("007"), None);
        assert_eq!(parse_int("+1"), None);
        assert_eq!(parse_int("99999999999999999999"), None);
        assert_eq!(parse_int("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808"), None);
        assert_eq!(parse_int("-0"), Some(0));
        assert_eq!(parse_int("1.0"), None);
        assert_eq!(parse_decimal("1.25"), Some(1.25));
        assert_eq!(parse_decimal("-0.5e2"), Some(-50.0));
        assert_eq!(parse_decimal("1E+3"), Some(1000.0));
        assert_eq!(parse_decimal("-142.52"), Some(-142.52));
        for text in [
            ".5", "5.", "00.5", "1e", "1.2.3", "1,5", "0x10", "1_000", "NaN", "1e999",
        ] {
            assert_eq!(parse_decimal(text), None, "{text}");
        }
    }

    #[test]
    fn the_fast_decimal_path_rounds_like_the_standard_library() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let digits = state % 1_000_000_000_000_000;
            let scale = (state >> 60) as usize % 16;
            let text = format!("{digits}");
            let text = if scale > 0 && scale < text.len() {
                format!(
                    "{}.{}",
                    &text[..text.len() - scale],
                    &text[text.len() - scale..]
                )
            } else {
                text
            };
            assert_eq!(parse_decimal(&text), text.parse::<f64>().ok(), "{text}");
        }
    }
}
