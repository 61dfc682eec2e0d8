//! Exact units for money, energy and prices.
//!
//! Money is [`Fen`] (0.01 CNY) in an `i64`; energy is [`Wh`] in an `i64` (meters report
//! 0.01 kWh = 10 Wh, so conversion is exact); prices are [`Price`] in units of 0.0001 fen per
//! kWh. A charge is `Wh × Price` in units of 1e-7 fen ([`SubFen`]), kept in an `i128`, so the
//! remainder below one fen can be carried forward instead of rounded away.
//!
//! There is deliberately no `f32`/`f64` anywhere in this module or on any money path: the
//! test `no_floats_on_money_paths` in `tests/ledger/no_floats.rs` scans the source tree for them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a piece of text is not a valid amount, energy or price.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("'{0}' is empty")]
    Empty(String),
    #[error("'{0}' is not a number")]
    NotANumber(String),
    #[error("'{text}' has more than {max} decimal places")]
    TooPrecise { text: String, max: u32 },
    #[error("'{0}' is negative, which is not allowed here")]
    Negative(String),
    #[error("'{0}' is too large")]
    Overflow(String),
}

/// Parses an exact decimal with at most `scale` decimal places into an integer of
/// `10^-scale` units. Accepts an optional leading `¥`/`￥`, surrounding blanks and a sign.
fn parse_decimal(text: &str, scale: u32, allow_negative: bool) -> Result<i64, UnitError> {
    let orig = text.to_string();
    let mut s = text.trim();
    s = s
        .strip_prefix('¥')
        .or_else(|| s.strip_prefix('￥'))
        .unwrap_or(s)
        .trim_start();
    if s.is_empty() {
        return Err(UnitError::Empty(orig));
    }
    let (negative, digits) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(UnitError::NotANumber(orig));
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(UnitError::NotANumber(orig));
    }
    if digits.contains('.') && frac_part.is_empty() && int_part.is_empty() {
        return Err(UnitError::NotANumber(orig));
    }
    if frac_part.len() > scale as usize {
        return Err(UnitError::TooPrecise {
            text: orig,
            max: scale,
        });
    }
    let overflow = || UnitError::Overflow(orig.clone());
    let mut value: i64 = 0;
    for b in int_part.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or_else(overflow)?;
    }
    for i in 0..scale as usize {
        let d = frac_part
            .as_bytes()
            .get(i)
            .map_or(0, |b| i64::from(b - b'0'));
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(d))
            .ok_or_else(overflow)?;
    }
    if negative && value != 0 {
        if !allow_negative {
            return Err(UnitError::Negative(orig));
        }
        value = -value;
    }
    Ok(value)
}

/// Formats `units` of `10^-scale` as a decimal with exactly `scale` places.
fn format_decimal(f: &mut fmt::Formatter<'_>, units: i64, scale: u32) -> fmt::Result {
    let div = 10i64.pow(scale);
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    let div_u = div.unsigned_abs();
    write!(
        f,
        "{sign}{}.{:0width$}",
        abs / div_u,
        abs % div_u,
        width = scale as usize
    )
}

/// Money in fen (0.01 CNY).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// Parses yuan text such as `12.34` or `¥12.34`; negative amounts are refused.
    pub fn parse(text: &str) -> Result<Fen, UnitError> {
        parse_decimal(text, 2, false).map(Fen)
    }

    /// Parses yuan text that may be negative (balances, adjustments).
    pub fn parse_signed(text: &str) -> Result<Fen, UnitError> {
        parse_decimal(text, 2, true).map(Fen)
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Yuan with two decimals and a `¥` sign, e.g. `¥12.34`, `-¥0.05`.
    pub fn yuan(self) -> String {
        let s = self.to_string();
        match s.strip_prefix('-') {
            Some(rest) => format!("-¥{rest}"),
            None => format!("¥{s}"),
        }
    }
}

impl fmt::Display for Fen {
    /// Plain yuan with two decimals (`12.34`), the form used in files and reports.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_decimal(f, self.0, 2)
    }
}

impl FromStr for Fen {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fen::parse(s)
    }
}

impl std::ops::Add for Fen {
    type Output = Fen;
    fn add(self, rhs: Fen) -> Fen {
        Fen(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Fen {
    type Output = Fen;
    fn sub(self, rhs: Fen) -> Fen {
        Fen(self.0 - rhs.0)
    }
}

impl std::ops::Neg for Fen {
    type Output = Fen;
    fn neg(self) -> Fen {
        Fen(-self.0)
    }
}

impl std::ops::AddAssign for Fen {
    fn add_assign(&mut self, rhs: Fen) {
        self.0 += rhs.0;
    }
}

impl std::ops::SubAssign for Fen {
    fn sub_assign(&mut self, rhs: Fen) {
        self.0 -= rhs.0;
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        Fen(iter.map(|f| f.0).sum())
    }
}

/// Energy in watt-hours.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Wh(pub i64);

impl Wh {
    pub const ZERO: Wh = Wh(0);

    /// From a meter register in 0.01 kWh (exact: 1 unit = 10 Wh).
    pub fn from_centi_kwh(centi: i64) -> Wh {
        Wh(centi * 10)
    }

    /// Parses kWh text with up to three decimals (`123.45`, `0.001`).
    pub fn parse_kwh(text: &str) -> Result<Wh, UnitError> {
        parse_decimal(text, 3, false).map(Wh)
    }

    pub fn checked_add(self, other: Wh) -> Option<Wh> {
        self.0.checked_add(other.0).map(Wh)
    }

    pub fn checked_sub(self, other: Wh) -> Option<Wh> {
        self.0.checked_sub(other.0).map(Wh)
    }

    /// kWh with three decimals, e.g. `123.450`.
    pub fn kwh(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Wh {
    /// kWh with three decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_decimal(f, self.0, 3)
    }
}

impl std::ops::Add for Wh {
    type Output = Wh;
    fn add(self, rhs: Wh) -> Wh {
        Wh(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Wh {
    type Output = Wh;
    fn sub(self, rhs: Wh) -> Wh {
        Wh(self.0 - rhs.0)
    }
}

impl std::ops::AddAssign for Wh {
    fn add_assign(&mut self, rhs: Wh) {
        self.0 += rhs.0;
    }
}

impl std::iter::Sum for Wh {
    fn sum<I: Iterator<Item = Wh>>(iter: I) -> Wh {
        Wh(iter.map(|w| w.0).sum())
    }
}

/// A price in units of 0.0001 fen per kWh (fen per kWh with four decimals).
///
/// Text is yuan per kWh as tariffs are quoted (`0.8523`), with up to six decimals.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Price(pub i64);

/// Price units in one fen per kWh.
pub const PRICE_UNITS_PER_FEN_PER_KWH: i64 = 10_000;

impl Price {
    /// From fen per kWh with four implied decimals (e.g. `852_300` = 85.23 fen/kWh).
    pub const fn from_units(units: i64) -> Price {
        Price(units)
    }

    /// From whole fen per kWh.
    pub const fn from_fen_per_kwh(fen: i64) -> Price {
        Price(fen * PRICE_UNITS_PER_FEN_PER_KWH)
    }

    /// Parses yuan per kWh (`0.8523`, `¥1.2`), up to six decimals, not negative.
    pub fn parse_yuan_per_kwh(text: &str) -> Result<Price, UnitError> {
        parse_decimal(text, 6, false).map(Price)
    }

    /// The exact cost of `energy` at this price, in 1e-7 fen.
    pub fn cost(self, energy: Wh) -> SubFen {
        SubFen(i128::from(energy.0) * i128::from(self.0))
    }
}

impl fmt::Display for Price {
    /// Yuan per kWh with six decimals, trailing zeros beyond four trimmed (`0.8523`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        let mut frac = format!("{:06}", abs % 1_000_000);
        while frac.len() > 4 && frac.ends_with('0') {
            frac.pop();
        }
        write!(f, "{sign}{}.{frac}", abs / 1_000_000)
    }
}

impl FromStr for Price {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Price::parse_yuan_per_kwh(s)
    }
}

/// An exact amount of money in units of 1e-7 fen (Wh × 0.0001 fen/kWh).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SubFen(pub i128);

/// SubFen units in one fen: 1 Wh at 1 unit (0.0001 fen/kWh) costs 1e-7 fen.
pub const SUBFEN_PER_FEN: i128 = 10_000_000;

impl SubFen {
    pub const ZERO: SubFen = SubFen(0);

    pub fn from_fen(fen: Fen) -> SubFen {
        SubFen(i128::from(fen.0) * SUBFEN_PER_FEN)
    }

    /// Splits into whole fen (rounded toward negative infinity) and the non-negative
    /// remainder below one fen, which the caller carries forward.
    pub fn split(self) -> Result<(Fen, SubFen), UnitError> {
        let whole = self.0.div_euclid(SUBFEN_PER_FEN);
        let rest = self.0.rem_euclid(SUBFEN_PER_FEN);
        let whole = i64::try_from(whole).map_err(|_| UnitError::Overflow(self.0.to_string()))?;
        Ok((Fen(whole), SubFen(rest)))
    }
}

impl std::ops::Add for SubFen {
    type Output = SubFen;
    fn add(self, rhs: SubFen) -> SubFen {
        SubFen(self.0 + rhs.0)
    }
}

impl std::ops::AddAssign for SubFen {
    fn add_assign(&mut self, rhs: SubFen) {
        self.0 += rhs.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_yuan_exactly() {
        assert_eq!(Fen::parse("12.34"), Ok(Fen(1234)));
        assert_eq!(Fen::parse("¥12.34"), Ok(Fen(1234)));
        assert_eq!(Fen::parse("￥ 0.5"), Ok(Fen(50)));
        assert_eq!(Fen::parse(" 7 "), Ok(Fen(700)));
        assert_eq!(Fen::parse("0.01"), Ok(Fen(1)));
        assert_eq!(Fen::parse(".5"), Ok(Fen(50)));
        assert_eq!(Fen::parse_signed("-5"), Ok(Fen(-500)));
    }

    #[test]
    fn refuses_bad_yuan_with_a_reason() {
        assert_eq!(
            Fen::parse("12.345"),
            Err(UnitError::TooPrecise {
                text: "12.345".into(),
                max: 2
            })
        );
        assert_eq!(Fen::parse("-5"), Err(UnitError::Negative("-5".into())));
        assert_eq!(Fen::parse("abc"), Err(UnitError::NotANumber("abc".into())));
        assert_eq!(
            Fen::parse("1.2.3"),
            Err(UnitError::NotANumber("1.2.3".into()))
        );
        assert_eq!(Fen::parse("1e5"), Err(UnitError::NotANumber("1e5".into())));
        assert_eq!(Fen::parse(""), Err(UnitError::Empty("".into())));
        assert_eq!(Fen::parse("."), Err(UnitError::NotANumber(".".into())));
        assert_eq!(Fen::parse("¥"), Err(UnitError::Empty("¥".into())));
        assert!(matches!(
            Fen::parse("99999999999999999999"),
            Err(UnitError::Overflow(_))
        ));
        assert!(matches!(
            Fen::parse("92233720368547758.08"),
            Err(UnitError::Overflow(_))
        ));
        assert_eq!(Fen::parse("92233720368547758.07"), Ok(Fen(i64::MAX)));
        assert_eq!(
            Fen::parse("12.345").unwrap_err().to_string(),
            "'12.345' has more than 2 decimal places"
        );
    }

    #[test]
    fn formats_yuan() {
        assert_eq!(Fen(1234).to_string(), "12.34");
        assert_eq!(Fen(5).to_string(), "0.05");
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(-1234).yuan(), "-¥12.34");
        assert_eq!(Fen(100).yuan(), "¥1.00");
    }

    #[test]
    fn energy_converts_exactly() {
        assert_eq!(Wh::from_centi_kwh(123_456), Wh(1_234_560));
        assert_eq!(Wh(1_234_560).to_string(), "1234.560");
        assert_eq!(Wh::parse_kwh("0.001"), Ok(Wh(1)));
        assert!(Wh::parse_kwh("0.0001").is_err());
    }

    #[test]
    fn prices_parse_and_cost_exactly() {
        let p = Price::parse_yuan_per_kwh("0.8523").unwrap();
        assert_eq!(p, Price(852_300));
        assert_eq!(p.to_string(), "0.8523");
        assert_eq!(Price(852_345).to_string(), "0.852345");
        // 1 kWh at 0.8523 yuan = 85.23 fen.
        let (fen, rest) = p.cost(Wh(1000)).split().unwrap();
        assert_eq!((fen, rest), (Fen(85), SubFen(2_300_000)));
        // 1 Wh at 0.8523 yuan = 0.08523 fen.
        assert_eq!(p.cost(Wh(1)), SubFen(852_300));
    }

    #[test]
    fn subfen_split_keeps_remainder_non_negative() {
        assert_eq!(
            SubFen(-1).split().unwrap(),
            (Fen(-1), SubFen(SUBFEN_PER_FEN - 1))
        );
        assert_eq!(
            SubFen(SUBFEN_PER_FEN * 3 + 7).split().unwrap(),
            (Fen(3), SubFen(7))
        );
    }

    proptest! {
        #[test]
        fn fen_text_round_trips(v in -10_000_000_000_000i64..10_000_000_000_000) {
            let f = Fen(v);
            prop_assert_eq!(Fen::parse_signed(&f.to_string()), Ok(f));
        }

        #[test]
        fn price_text_round_trips(v in 0i64..100_000_000_000) {
            let p = Price(v);
            prop_assert_eq!(Price::parse_yuan_per_kwh(&p.to_string()), Ok(p));
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = Fen::parse(&s);
            let _ = Price::parse_yuan_per_kwh(&s);
            let _ = Wh::parse_kwh(&s);
        }
    }
}
