//! Batch operations from the console: one command over the marked meters (or the
//! filtered list), a confirmation naming the count, then the progress and every meter's
//! result, polled from the daemon (`/api/v1/batches`).

use crate::api::Transport;
use crate::app::{App, Confirm, Pending, Screen};
use crate::keys::Action;
use serde::Deserialize;
use serde_json::json;
use std::time::{Duration, Instant};

/// (API name, what the operator reads).
pub const OPS: [(&str, &str); 8] = [
    ("read", "read status now"),
    ("push_prices", "push prices"),
    ("push_settings", "push settings"),
    ("keep_power_on", "keep power on (保电)"),
    ("keep_power_off", "end keep power"),
    ("restore_prepaid", "restore prepaid mode"),
    ("trip", "trip (cut power)"),
    ("close", "close (restore power)"),
];

/// How often a running batch is polled.
pub const POLL_EVERY: Duration = Duration::from_millis(700);

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemProgress {
    pub meter: String,
    pub state: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Progress {
    pub id: u64,
    pub total: usize,
    pub done: usize,
    pub confirmed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub pending: usize,
    pub finished: bool,
    pub items: Vec<ItemProgress>,
}

#[derive(Debug, Clone, Default)]
pub struct BatchState {
    /// Meter ids the next batch covers.
    pub selection: Vec<String>,
    /// Where the selection came from, e.g. "3 marked meters".
    pub scope: String,
    /// Index into [`OPS`].
    pub op: usize,
    /// The batch being shown: (id, what it does).
    pub running: Option<(u64, String)>,
    pub progress: Option<Progress>,
    pub scroll: usize,
    pub last_poll: Option<Instant>,
}

impl App {
    /// Opens the batch screen on the marked meters, or on the meters the filter shows.
    pub fn open_batch(&mut self) {
        let ms = &self.meters;
        let (selection, scope): (Vec<String>, String) = if ms.marked.is_empty() {
            let ids: Vec<String> = ms.view.iter().map(|i| ms.rows[*i].meter.clone()).collect();
            let scope = if ms.filter.trim().is_empty() {
                format!("all {} meters", ids.len())
            } else {
                format!(
                    "{} meters shown by the filter '{}'",
                    ids.len(),
                    ms.filter.trim()
                )
            };
            (ids, scope)
        } else {
            // Marked meters in the order the table shows them, then any marked meter the
            // current filter hides.
            let mut ids: Vec<String> = ms
                .view
                .iter()
                .map(|i| &ms.rows[*i].meter)
                .filter(|m| ms.marked.contains(*m))
                .cloned()
                .collect();
            for m in &ms.marked {
                if !ids.contains(m) {
                    ids.push(m.clone());
                }
            }
            let scope = format!("{} marked meters", ids.len());
            (ids, scope)
        };
        self.batch.selection = selection;
        self.batch.scope = scope;
        self.screen = Screen::Batch;
    }

    pub fn batch_cursor(&mut self, a: Action) {
        let b = &mut self.batch;
        let n = b.progress.as_ref().map_or(0, |p| p.items.len());
        match a {
            Action::Up => b.op = b.op.saturating_sub(1),
            Action::Down => b.op = (b.op + 1).min(OPS.len() - 1),
            Action::PageDown => b.scroll = (b.scroll + 10).min(n.saturating_sub(1)),
            Action::PageUp => b.scroll = b.scroll.saturating_sub(10),
            _ => {}
        }
    }

    /// The confirmation: what, on how many meters, which are skipped.
    pub fn ask_batch(&mut self) {
        if let Some(p) = &self.batch.progress
            && !p.finished
        {
            self.error(format!(
                "batch #{} is still running: wait for its results",
                p.id
            ));
            return;
        }
        let n = self.batch.selection.len();
        if n == 0 {
            self.error("no meters selected: mark rows (Space) or filter the meters table (2)");
            return;
        }
        let (command, label) = OPS[self.batch.op];
        let mut lines = vec![
            format!("{label} on {n} meter(s)"),
            format!("selection: {}", self.batch.scope),
        ];
        let units: Vec<String> = self
            .batch
            .selection
            .iter()
            .take(6)
            .map(|id| {
                self.meters
                    .rows
                    .iter()
                    .find(|r| &r.meter == id)
                    .and_then(|r| r.unit.clone())
                    .unwrap_or_else(|| id.clone())
            })
            .collect();
        lines.push(format!(
            "{}{}",
            units.join(", "),
            if n > units.len() {
                format!(" and {} more", n - units.len())
            } else {
                String::new()
            }
        ));
        match command {
            "trip" => {
                let kp = self
                    .meters
                    .rows
                    .iter()
                    .filter(|r| r.keep_power && self.batch.selection.contains(&r.meter))
                    .count();
                lines.push(format!(
                    "{kp} on keep-power (保电) will be skipped; every trip is confirmed by reading the meter"
                ));
            }
            "close" => lines.push(
                "meters of tenants in arrears are skipped (they would be tripped again)".into(),
            ),
            _ => {}
        }
        self.confirm = Some(Confirm {
            title: format!("Batch: {label}"),
            lines,
            pending: Pending::Batch {
                command: command.into(),
                meters: self.batch.selection.clone(),
            },
        });
    }

    pub fn run_batch(&mut self, command: &str, meters: Vec<String>, api: &mut dyn Transport) {
        let body = json!({"command": command, "meters": meters});
        match self.call(api, "POST", "/api/v1/batches", Some(&body)) {
            Ok(v) => {
                let id = v["id"].as_u64().unwrap_or(0);
                let label = OPS.iter().find(|o| o.0 == command).map_or(command, |o| o.1);
                self.batch.running = Some((id, label.to_string()));
                self.batch.progress = None;
                self.batch.scroll = 0;
                self.info(format!(
                    "batch #{id}: {label} queued for {} meter(s), {} skipped",
                    v["queued"].as_u64().unwrap_or(0),
                    v["skipped"].as_u64().unwrap_or(0)
                ));
                self.poll_batch(api);
            }
            Err(e) => self.error(format!("batch refused: {}", e.message)),
        }
    }

    /// Reads the running batch's progress (the event loop calls this every tick; it asks
    /// the daemon at most every [`POLL_EVERY`]).
    pub fn tick(&mut self, api: &mut dyn Transport) {
        let due = self
            .batch
            .last_poll
            .is_none_or(|t| t.elapsed() >= POLL_EVERY);
        if due {
            self.poll_batch(api);
        }
    }

    pub fn poll_batch(&mut self, api: &mut dyn Transport) {
        let Some((id, _)) = self.batch.running.clone() else {
            return;
        };
        if self.batch.progress.as_ref().is_some_and(|p| p.finished) {
            return;
        }
        self.batch.last_poll = Some(Instant::now());
        match self.call(api, "GET", &format!("/api/v1/batches/{id}"), None) {
            Ok(v) => match serde_json::from_value::<Progress>(v) {
                Ok(p) => {
                    if p.finished {
                        self.info(format!(
                            "batch #{id} finished: {} confirmed, {} failed, {} skipped",
                            p.confirmed, p.failed, p.skipped
                        ));
                    }
                    self.batch.progress = Some(p);
                }
                Err(e) => self.error(format!("batch #{id}: unexpected answer: {e}")),
            },
            Err(e) => self.error(format!("batch #{id}: {}", e.message)),
        }
    }
}
