//! Small shared pieces: money text, status colours (256 colours with a 16-colour
//! fallback) and the legend.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// fen → "1,234.56" (integer arithmetic, never floats).
pub fn money(fen: i64) -> String {
    let neg = fen < 0;
    let a = fen.unsigned_abs();
    let (yuan, cents) = (a / 100, a % 100);
    let digits = yuan.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{}{grouped}.{cents:02}", if neg { "-" } else { "" })
}

/// Wh → "1,318.920" kWh (exact: three decimals, integer arithmetic).
pub fn kwh(wh: i64) -> String {
    let neg = wh < 0;
    let a = wh.unsigned_abs();
    let whole = money(i64::try_from(a / 1000).unwrap_or(i64::MAX) * 100);
    let whole = whole.trim_end_matches(".00");
    format!("{}{whole}.{:03}", if neg { "-" } else { "" }, a % 1000)
}

/// An RFC 3339 UTC time as "YYYY-MM-DD HH:MM:SS" in the site's IANA time zone `tz`; with an
/// unknown zone (settings not loaded yet) the UTC time marked "UTC", never a guess.
pub fn site_time(at: &str, tz: &str) -> String {
    let Ok(ts) = at.parse::<jiff::Timestamp>() else {
        return at.to_string();
    };
    match jiff::tz::TimeZone::get(tz) {
        Ok(z) => ts
            .to_zoned_datetime(z)
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => format!("{} UTC", ts.strftime("%Y-%m-%d %H:%M:%S")),
    }
}

/// "50", "50.5", "50.00", "1,000.00" → fen. None for anything else (negative, 3 decimals,
/// letters, overflow).
pub fn parse_money(s: &str) -> Option<i64> {
    let s: String = s.trim().chars().filter(|c| *c != ',').collect();
    let (y, f) = s.split_once('.').unwrap_or((&s, ""));
    if y.is_empty() && f.is_empty() || f.len() > 2 {
        return None;
    }
    if !y.chars().all(|c| c.is_ascii_digit()) || !f.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let yuan: i64 = if y.is_empty() { 0 } else { y.parse().ok()? };
    let mut cents: i64 = if f.is_empty() { 0 } else { f.parse().ok()? };
    if f.len() == 1 {
        cents *= 10;
    }
    yuan.checked_mul(100)?.checked_add(cents)
}

/// Meter/account status as the console colours it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Offline,
    Arrears,
    Alarm2,
    Alarm1,
    Opened,
    #[default]
    Unopened,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Opened,
        Status::Alarm1,
        Status::Alarm2,
        Status::Arrears,
        Status::Unopened,
        Status::Offline,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Status::Opened => "opened",
            Status::Alarm1 => "alarm 1",
            Status::Alarm2 => "alarm 2",
            Status::Arrears => "arrears",
            Status::Unopened => "unopened",
            Status::Offline => "offline",
        }
    }
    /// Foreground colour: 256-colour palette when the terminal has it, else the 16 ANSI.
    pub fn color(self, colors256: bool) -> Color {
        match (self, colors256) {
            (Status::Opened, true) => Color::Indexed(42),
            (Status::Opened, false) => Color::Green,
            (Status::Alarm1, true) => Color::Indexed(220),
            (Status::Alarm1, false) => Color::Yellow,
            (Status::Alarm2, true) => Color::Indexed(208),
            (Status::Alarm2, false) => Color::LightRed,
            (Status::Arrears, true) => Color::Indexed(196),
            (Status::Arrears, false) => Color::Red,
            (Status::Unopened, true) => Color::Indexed(75),
            (Status::Unopened, false) => Color::Cyan,
            (Status::Offline, true) => Color::Indexed(245),
            (Status::Offline, false) => Color::DarkGray,
        }
    }
    pub fn style(self, colors256: bool) -> Style {
        let s = Style::default().fg(self.color(colors256));
        if matches!(self, Status::Arrears) {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }
}

/// Which status a meter shows: offline beats everything, then the account's state.
pub fn meter_status(
    online: Option<bool>,
    account_balance: Option<i64>,
    alarm1: i64,
    alarm2: i64,
) -> Status {
    if online == Some(false) {
        return Status::Offline;
    }
    match account_balance {
        None => Status::Unopened,
        // The one meaning of zero, shared with the daemon (docs/ledger.md "Zero balance").
        Some(b) if voltvend_api_types::in_arrears(b) => Status::Arrears,
        Some(b) if b <= alarm2 => Status::Alarm2,
        Some(b) if b <= alarm1 => Status::Alarm1,
        Some(_) => Status::Opened,
    }
}

/// "■ opened ■ alarm 1 …" in the status colours.
pub fn legend(colors256: bool) -> Line<'static> {
    let mut spans = vec![];
    for s in Status::ALL {
        spans.push(Span::styled("■ ", s.style(colors256)));
        spans.push(Span::raw(format!("{} ", s.label())));
    }
    spans.push(Span::raw("⚷ lock ∞ keep ⏻ off"));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_with_grouping_and_sign() {
        assert_eq!(money(0), "0.00");
        assert_eq!(money(5000), "50.00");
        assert_eq!(money(18650), "186.50");
        assert_eq!(money(123456789), "1,234,567.89");
        assert_eq!(money(-305), "-3.05");
    }

    #[test]
    fn kwh_is_exact_with_grouping_and_sign() {
        assert_eq!(kwh(0), "0.000");
        assert_eq!(kwh(66_740), "66.740");
        assert_eq!(kwh(1_318_920), "1,318.920");
        assert_eq!(kwh(-1_318_920), "-1,318.920");
        assert_eq!(kwh(5), "0.005");
    }

    #[test]
    fn site_time_is_in_the_site_zone_or_marked_utc() {
        let at = "2026-11-25T01:30:05Z";
        assert_eq!(site_time(at, "Asia/Shanghai"), "2026-11-25 09:30:05");
        assert_eq!(site_time(at, "Europe/London"), "2026-11-25 01:30:05");
        assert_eq!(site_time(at, ""), "2026-11-25 01:30:05 UTC");
        assert_eq!(site_time("garbage", "Asia/Shanghai"), "garbage");
    }

    #[test]
    fn money_parses_cashier_input_exactly() {
        assert_eq!(parse_money("50"), Some(5000));
        assert_eq!(parse_money("50.00"), Some(5000));
        assert_eq!(parse_money("50.5"), Some(5050));
        assert_eq!(parse_money("1,000.01"), Some(100001));
        assert_eq!(parse_money(".5"), Some(50));
        for bad in ["", ".", "-5", "5.001", "abc", "5e3", "99999999999999999999"] {
            assert_eq!(parse_money(bad), None, "{bad}");
        }
    }

    #[test]
    fn status_order_offline_then_account() {
        assert_eq!(
            meter_status(Some(false), Some(-1), 100, 30),
            Status::Offline
        );
        assert_eq!(meter_status(None, None, 100, 30), Status::Unopened);
        assert_eq!(meter_status(Some(true), Some(-1), 100, 30), Status::Arrears);
        // Zero is arrears, as in the daemon's alarms, reports and trips, not alarm 2.
        assert_eq!(meter_status(Some(true), Some(0), 100, 30), Status::Arrears);
        assert_eq!(meter_status(None, Some(1), 100, 30), Status::Alarm2);
        assert_eq!(meter_status(None, Some(30), 100, 30), Status::Alarm2);
        assert_eq!(meter_status(None, Some(100), 100, 30), Status::Alarm1);
        assert_eq!(meter_status(None, Some(101), 100, 30), Status::Opened);
    }
}
