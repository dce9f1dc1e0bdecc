//! Resource quantities (`100m`, `1Gi`, `2e3`) read exactly, for the sign, ordering and
//! integrality checks of resource validation, and for the arithmetic of CEL's quantity library.

use std::cmp::Ordering;
use std::ops::Neg;

/// Upstream's message for a string that is not a quantity.
pub const FORMAT_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// Upstream's message for a string of a quantity's shape whose suffix is none it knows (`10Mm`).
pub const SUFFIX_ERROR: &str = "unable to parse quantity's suffix";

/// Digits kept from a mantissa; more cannot change a validation outcome.
const MAX_DIGITS: usize = 30;

/// `mantissa × 10^exp10 × 2^exp2`, with a sign.
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    negative: bool,
    mantissa: u128,
    exp10: i32,
    exp2: u32,
}

impl Quantity {
    pub fn parse(s: &str) -> Option<Self> {
        let (negative, rest) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let number_len = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_len);
        let (mantissa, mut exp10) = parse_number(number)?;
        let (suffix_exp10, exp2) = parse_suffix(suffix)?;
        exp10 = exp10.checked_add(suffix_exp10)?;
        Some(Self {
            negative: negative && mantissa != 0,
            mantissa,
            exp10,
            exp2,
        })
    }

    /// [`Quantity::parse`], or why `s` is no quantity in upstream's words: [`SUFFIX_ERROR`] when
    /// it has a quantity's shape (a number, then suffix letters and exponent digits),
    /// [`FORMAT_ERROR`] otherwise.
    pub fn try_parse(s: &str) -> Result<Self, &'static str> {
        Self::parse(s).ok_or(if has_quantity_shape(s) {
            SUFFIX_ERROR
        } else {
            FORMAT_ERROR
        })
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Upstream's integrality test: the value rounded up to thousandths is a whole number.
    pub fn is_whole(&self) -> bool {
        let Some(scaled) = self.mantissa.checked_mul(1u128 << self.exp2) else {
            return true;
        };
        let exp = self.exp10 + 3;
        let milli = if exp >= 0 {
            10u128
                .checked_pow(exp.unsigned_abs())
                .and_then(|p| scaled.checked_mul(p))
        } else {
            10u128
                .checked_pow(exp.unsigned_abs())
                .map(|p| scaled.div_ceil(p))
                .or(Some(u128::from(scaled != 0)))
        };
        milli.is_none_or(|m| m % 1000 == 0)
    }

    /// -1, 0 or 1 as the quantity is negative, zero or positive.
    pub fn signum(&self) -> i64 {
        match (self.mantissa, self.negative) {
            (0, _) => 0,
            (_, true) => -1,
            (_, false) => 1,
        }
    }

    /// `self + other`, exactly; `None` when bringing both to one scale overflows.
    pub fn checked_add(&self, other: &Self) -> Option<Self> {
        let exp10 = self.exp10.min(other.exp10);
        let (a, b) = (self.scaled(exp10)?, other.scaled(exp10)?);
        let (negative, mantissa) = if self.negative == other.negative {
            (self.negative, a.checked_add(b)?)
        } else if a >= b {
            (self.negative, a - b)
        } else {
            (other.negative, b - a)
        };
        Some(Self {
            negative: negative && mantissa != 0,
            mantissa,
            exp10,
            exp2: 0,
        })
    }

    /// The value as an `i64`, if it is a whole number that fits.
    pub fn to_i64(&self) -> Option<i64> {
        if self.mantissa == 0 {
            return Some(0);
        }
        let magnitude = if self.exp10 >= 0 {
            self.scaled(0)?
        } else {
            let unit = 10u128.checked_pow(self.exp10.unsigned_abs())?;
            let scaled = self.mantissa.checked_mul(1u128 << self.exp2)?;
            if scaled % unit != 0 {
                return None;
            }
            scaled / unit
        };
        let magnitude = i128::try_from(magnitude).ok()?;
        i64::try_from(if self.negative { -magnitude } else { magnitude }).ok()
    }

    /// The value as the nearest `f64` upstream's `AsApproximateFloat64` computes: the digits
    /// times the power of ten, infinite beyond `f64`'s range.
    pub fn to_f64(&self) -> f64 {
        if self.mantissa == 0 {
            return 0.0;
        }
        let magnitude = self.mantissa as f64 * f64::from(self.exp2).exp2() * 10f64.powi(self.exp10);
        if self.negative { -magnitude } else { magnitude }
    }

    fn magnitude_cmp(&self, other: &Self) -> Ordering {
        let common = self.exp10.min(other.exp10);
        match (self.scaled(common), other.scaled(common)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.log10().total_cmp(&other.log10()),
        }
    }

    /// The magnitude as an integer in units of `10^exp10`, if it fits.
    fn scaled(&self, exp10: i32) -> Option<u128> {
        let pow10 = 10u128.checked_pow(self.exp10.checked_sub(exp10)?.unsigned_abs())?;
        self.mantissa
            .checked_mul(pow10)?
            .checked_mul(1u128 << self.exp2)
    }

    fn log10(&self) -> f64 {
        if self.mantissa == 0 {
            return f64::NEG_INFINITY;
        }
        (self.mantissa as f64).log10() + f64::from(self.exp10) + f64::from(self.exp2) * 2f64.log10()
    }
}

impl From<i64> for Quantity {
    fn from(n: i64) -> Self {
        Self {
            negative: n < 0,
            mantissa: u128::from(n.unsigned_abs()),
            exp10: 0,
            exp2: 0,
        }
    }
}

impl Neg for Quantity {
    type Output = Self;

    fn neg(self) -> Self {
        Self {
            negative: !self.negative && self.mantissa != 0,
            ..self
        }
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.magnitude_cmp(other),
            (true, true) => other.magnitude_cmp(self),
        }
    }
}

/// Whether `s` reads as upstream's grammar for quantities reads it: a sign, digits with at most
/// one point, suffix letters, then an exponent's sign and digits, whatever the suffix means.
fn has_quantity_shape(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let rest = skip_digits(unsigned);
    let rest = rest.strip_prefix('.').map_or(rest, skip_digits);
    if rest.len() == unsigned.len() {
        return false;
    }
    let rest = rest.trim_start_matches(|c: char| "eEinumkKMGTP".contains(c));
    let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    skip_digits(rest).is_empty()
}

fn skip_digits(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_ascii_digit())
}

/// Digits with at most one decimal point, as `(mantissa, exp10)`.
fn parse_number(number: &str) -> Option<(u128, i32)> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return None;
    }
    let digits: String = whole
        .chars()
        .chain(fraction.chars())
        .skip_while(|&c| c == '0')
        .collect();
    let kept = digits.len().min(MAX_DIGITS);
    let dropped = i32::try_from(digits.len() - kept).ok()?;
    let mantissa = if kept == 0 {
        0
    } else {
        digits[..kept].parse().ok()?
    };
    let exp10 = dropped - i32::try_from(fraction.len()).ok()?;
    Some((mantissa, exp10))
}

/// A binary-SI, decimal-SI or exponent suffix, as `(exp10, exp2)`.
fn parse_suffix(suffix: &str) -> Option<(i32, u32)> {
    let fixed = match suffix {
        "" => (0, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        _ => return parse_exponent(suffix).map(|exp| (exp, 0)),
    };
    Some(fixed)
}

fn parse_exponent(suffix: &str) -> Option<i32> {
    let exponent = suffix.strip_prefix(['e', 'E'])?;
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    exponent.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn parses_suffixes_and_compares_exactly() {
        assert_eq!(q("1"), q("1000m"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("1.5Gi"), q("1536Mi"));
        assert_eq!(q("2e3"), q("2k"));
        assert!(q("100m") < q("0.2"));
        assert!(q("-1") < q("0"));
        assert!(q("1Ei") > q("1E"));
        assert!(!q("-0").is_negative() && q("-1m").is_negative());
    }

    #[test]
    fn rejects_malformed_quantities() {
        for bad in ["", "abc", "1Qi", "1.2.3", ".", "1e", "--1"] {
            assert!(Quantity::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn whole_numbers() {
        assert!(q("2").is_whole());
        assert!(q("3000m").is_whole());
        assert!(!q("1500m").is_whole());
        assert!(!q("0.5").is_whole());
    }
}
