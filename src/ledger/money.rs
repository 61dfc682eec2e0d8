//! Amounts as people read them in messages: `¥1,100.00`.

use crate::units::Fen;

/// Yuan with a `¥` sign, thousands separators and two decimals (`-¥1,234.50`).
pub fn yuan(f: Fen) -> String {
    let plain = f.to_string();
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(yuan(Fen(110_000)), "¥1,100.00");
        assert_eq!(yuan(Fen(50_000)), "¥500.00");
        assert_eq!(yuan(Fen(5)), "¥0.05");
        assert_eq!(yuan(Fen(-123_456_789)), "-¥1,234,567.89");
        assert_eq!(yuan(Fen(100_000_000)), "¥1,000,000.00");
    }
}
