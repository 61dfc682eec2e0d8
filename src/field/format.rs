//! Exact decimal text for decoded meter values (no floats): canonical integers from
//! `protocol::profile` shown in the units installers read on the meter's display.

use crate::protocol::profile::Quantity;
use crate::units::Price;

/// `v × 10^-scale` as exact decimal text, e.g. `decimal(-1234, 2)` = `-12.34`.
pub fn decimal(v: i64, scale: u32) -> String {
    if scale == 0 {
        return v.to_string();
    }
    let div = 10u64.pow(scale);
    let abs = v.unsigned_abs();
    let sign = if v < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:0width$}",
        abs / div,
        abs % div,
        width = scale as usize
    )
}

/// Energy in Wh as kWh: two decimals (the meter's own resolution) when exact, else three.
pub fn kwh(wh: i64) -> String {
    if wh % 10 == 0 {
        decimal(wh / 10, 2)
    } else {
        decimal(wh, 3)
    }
}

/// A value in display units: (number text, unit label).
pub fn display(q: Quantity, v: i64) -> (String, &'static str) {
    match q {
        Quantity::Energy => (kwh(v), "kWh"),
        Quantity::Voltage => (decimal(v, 1), "V"),
        Quantity::Current => (decimal(v, 3), "A"),
        Quantity::Power => (decimal(v, 3), "kW"),
        Quantity::ApparentPower => (decimal(v, 3), "kVA"),
        Quantity::Frequency => (decimal(v, 2), "Hz"),
        Quantity::Money => (decimal(v, 2), "yuan"),
        Quantity::Price => (Price(v).to_string(), "yuan/kWh"),
        Quantity::Ratio => (decimal(v, 3), ""),
        Quantity::Count | Quantity::Code | Quantity::Flag | Quantity::Bytes => (v.to_string(), ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_decimal_text() {
        assert_eq!(decimal(123_456, 2), "1234.56");
        assert_eq!(decimal(-5, 2), "-0.05");
        assert_eq!(decimal(7, 0), "7");
        assert_eq!(kwh(1_234_560), "1234.56");
        assert_eq!(kwh(1_234_561), "1234.561");
        assert_eq!(display(Quantity::Voltage, 2201), ("220.1".into(), "V"));
        assert_eq!(display(Quantity::Power, 1500), ("1.500".into(), "kW"));
        assert_eq!(display(Quantity::Money, -250), ("-2.50".into(), "yuan"));
        assert_eq!(
            display(Quantity::Price, 852_300),
            ("0.8523".into(), "yuan/kWh")
        );
    }
}
