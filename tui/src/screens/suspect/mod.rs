//! Suspect readings: readings the collector did not charge (below the last charged total, or
//! more energy than the meter can pass in the time). Staff accept one (its energy since the
//! last charged reading is charged), reject it (never charged, the basis stays) or reject
//! and re-baseline it (a replaced or reset meter: later readings are measured from it).
//! Every decision goes through the confirm dialog; the daemon audits it.

use crate::api::ApiErr;
use crate::app::{Confirm, Pending as AnyPending};
use crate::data::SiteData;
use crate::effect::{Effect, Reply as AnyReply};
use crate::keys::Action;
use crate::screens::meters::MeterRow;
use crate::types::SuspectReadingView;
use crate::widgets::{kwh, site_time};

mod draw;
pub use draw::draw;

#[derive(Debug, Clone, Default)]
pub struct SuspectState {
    /// Pending suspect readings, as the daemon lists them (oldest first per meter).
    pub rows: Vec<SuspectReadingView>,
    pub selected: usize,
    /// What the last decision did (or why it was refused), shown above the list.
    pub last_result: Option<String>,
}

/// What staff decided, waiting for their `y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Reject,
    Rebaseline,
}

impl Decision {
    fn verb(self) -> &'static str {
        match self {
            Decision::Accept => "ACCEPTED",
            Decision::Reject => "REJECTED",
            Decision::Rebaseline => "REJECTED and RE-BASELINED",
        }
    }
}

/// A decision on one reading (its identity in the routes: meter and `at_ms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub meter: String,
    pub at_ms: i64,
    pub decision: Decision,
    /// "meter 3100… at 2026-11-25 09:30:05", for the result line.
    pub what: String,
}

pub enum Reply {
    Loaded(Result<Vec<SuspectReadingView>, ApiErr>),
    Decided {
        pending: Pending,
        result: Box<Result<SuspectReadingView, ApiErr>>,
    },
}

impl From<Reply> for AnyReply {
    fn from(r: Reply) -> AnyReply {
        AnyReply::Suspect(r)
    }
}

/// Loads the pending suspect readings.
pub fn load() -> Effect {
    Effect::call(|api| Reply::Loaded(api.suspect_readings()).into())
}

/// The energy from the charged basis to the reading, Wh (negative for a decrease).
pub fn increase_wh(s: &SuspectReadingView) -> i64 {
    s.total_wh.saturating_sub(s.basis_wh)
}

/// Why it was not charged, short (the table's column).
pub fn why_short(s: &SuspectReadingView) -> &'static str {
    match s.why.as_str() {
        "decrease" => "lower",
        "too_high" => "too high",
        _ => "?",
    }
}

/// Why it was not charged, in full (the detail line and the dialog).
pub fn why_long(s: &SuspectReadingView) -> String {
    match (s.why.as_str(), s.max_wh) {
        ("decrease", _) => {
            "below the last charged total (reset, replaced meter, glitch or bad reply)".into()
        }
        ("too_high", Some(max)) => format!(
            "more than the meter can pass in the time (at most {} kWh)",
            kwh(max)
        ),
        ("too_high", None) => "more than the meter can pass in the time".into(),
        (w, _) => format!("suspect: {w}"),
    }
}

/// The meter's row in the meters table (unit and tenant), if the console has it.
pub fn meter_row<'a>(rows: &'a [MeterRow], meter: &str) -> Option<&'a MeterRow> {
    rows.iter().find(|m| m.meter == meter)
}

/// "A-101 Noodle House 1 (T0001)", or "-" for a meter without a tenant.
pub fn tenant_text(row: Option<&MeterRow>) -> String {
    let Some(m) = row else { return "-".into() };
    let unit = m.unit.clone().unwrap_or_else(|| "-".into());
    match &m.tenant {
        Some(t) if !m.tenant_name.is_empty() => format!("{unit} {} ({t})", m.tenant_name),
        Some(t) => format!("{unit} ({t})"),
        None => format!("{unit} (no tenant)"),
    }
}

fn confirm(title: &str, lines: Vec<String>, p: Pending) -> Effect {
    Effect::Confirm(Confirm {
        title: title.into(),
        lines,
        pending: AnyPending::Suspect(p),
    })
}

impl SuspectState {
    /// New rows (a load or the app's refresh); the selection stays on the same reading when
    /// it is still listed.
    pub fn set_rows(&mut self, rows: Vec<SuspectReadingView>) {
        let was = self
            .rows
            .get(self.selected)
            .map(|s| (s.meter.clone(), s.at_ms));
        self.rows = rows;
        self.selected = was
            .and_then(|(m, at)| self.rows.iter().position(|s| s.meter == m && s.at_ms == at))
            .unwrap_or(self.selected)
            .min(self.rows.len().saturating_sub(1));
    }

    pub fn selected_reading(&self) -> Option<&SuspectReadingView> {
        self.rows.get(self.selected)
    }

    pub fn on_action(&mut self, a: Action, meters: &[MeterRow], data: &SiteData) -> Effect {
        let n = self.rows.len().saturating_sub(1);
        match a {
            Action::Down => self.selected = (self.selected + 1).min(n),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Accept => return self.ask(Decision::Accept, meters, data),
            Action::Reject => return self.ask(Decision::Reject, meters, data),
            Action::Rebaseline => return self.ask(Decision::Rebaseline, meters, data),
            _ => {}
        }
        Effect::None
    }

    fn ask(&self, d: Decision, meters: &[MeterRow], data: &SiteData) -> Effect {
        let Some(s) = self.selected_reading() else {
            return Effect::info("no suspect reading to decide");
        };
        let inc = increase_wh(s);
        if d == Decision::Accept && inc < 0 {
            // The daemon refuses it too; saying so here saves a round trip and says what to do.
            return Effect::error(
                "a reading below the charged total cannot be charged: r rejects it, b re-baselines (meter replaced or reset)",
            );
        }
        let row = meter_row(meters, &s.meter);
        let at = site_time(&s.at, &data.timezone);
        let what = format!(
            "meter {} ({}) at {at}",
            s.meter,
            row.and_then(|m| m.unit.clone())
                .unwrap_or_else(|| "-".into())
        );
        let mut lines = vec![
            format!("meter {}  {}", s.meter, tenant_text(row)),
            format!(
                "reading {at}: {} kWh, last charged {} kWh ({})",
                kwh(s.total_wh),
                kwh(s.basis_wh),
                site_time(&s.basis_at, &data.timezone)
            ),
            format!("increase {} kWh: {}", kwh(inc), why_long(s)),
        ];
        let title = match d {
            Decision::Accept => {
                lines.push(format!(
                    "ACCEPT: {} kWh is charged to the tenant at the tariff, once; this reading becomes the charged basis",
                    kwh(inc)
                ));
                "Accept a suspect reading"
            }
            Decision::Reject => {
                lines.push(format!(
                    "REJECT: nothing is charged for it; later readings are still measured from {} kWh",
                    kwh(s.basis_wh)
                ));
                "Reject a suspect reading"
            }
            Decision::Rebaseline => {
                lines.push(format!(
                    "REJECT AND RE-BASELINE (meter replaced or reset): nothing is charged for it; later readings are measured from {} kWh",
                    kwh(s.total_wh)
                ));
                "Re-baseline a meter"
            }
        };
        confirm(
            title,
            lines,
            Pending {
                meter: s.meter.clone(),
                at_ms: s.at_ms,
                decision: d,
                what,
            },
        )
    }

    /// `y` on the dialog.
    pub fn confirmed(&self, p: Pending) -> Effect {
        Effect::call(move |api| {
            let result = match p.decision {
                Decision::Accept => api.accept_suspect(&p.meter, p.at_ms),
                Decision::Reject => api.reject_suspect(&p.meter, p.at_ms, false),
                Decision::Rebaseline => api.reject_suspect(&p.meter, p.at_ms, true),
            };
            Reply::Decided {
                pending: p,
                result: Box::new(result),
            }
            .into()
        })
    }

    pub fn on_reply(&mut self, r: Reply) -> Effect {
        match r {
            Reply::Loaded(Ok(rows)) => {
                self.set_rows(rows);
                Effect::None
            }
            Reply::Loaded(Err(e)) => Effect::error(format!("suspect readings: {}", e.message)),
            Reply::Decided { pending, result } => match *result {
                Ok(v) => {
                    let done = match (pending.decision, v.charged_wh) {
                        (Decision::Accept, Some(wh)) => format!("{} kWh charged", kwh(wh)),
                        (Decision::Accept, None) => "charged".into(),
                        (Decision::Reject, _) => "nothing charged".into(),
                        (Decision::Rebaseline, _) => format!(
                            "nothing charged; later readings are measured from {} kWh",
                            kwh(v.total_wh)
                        ),
                    };
                    let line = format!("{} {}: {done}", pending.decision.verb(), pending.what);
                    self.last_result = Some(line.clone());
                    // An accept moves the tenant's balance: the whole refresh, not only the list.
                    let reload = if pending.decision == Decision::Accept {
                        Effect::Refresh
                    } else {
                        load()
                    };
                    Effect::info(line).and(reload)
                }
                Err(e) => {
                    let line = format!("REFUSED {}: {}", pending.what, e.message);
                    self.last_result = Some(line.clone());
                    Effect::error(line).and(load())
                }
            },
        }
    }
}
