//! The monthly energy report on a large site, shared by `benches/reports.rs` and the SQLite
//! comparison in `benches/sqlite-compare/` (which includes this file by path, with
//! support/site.rs as `site`).
// Each bench uses a part (the comparison reads `dir` and `from` for its SQLite copy).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use voltvend::report::table::Cell;
use voltvend::report::{self, Params};
use voltvend::store::Store;

use crate::site;

/// A site of `METERS` meters (default 5,000) with 31 days of readings, and the report's
/// parameters: energy by unit over the last 30 days.
pub struct EnergyMonth {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub meters: u32,
    pub from: jiff::civil::Date,
    pub params: Params,
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn site_tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz")
}

impl EnergyMonth {
    pub fn build() -> EnergyMonth {
        let meters: u32 = std::env::var("METERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5000);
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("site.redb");
        let links: Vec<String> = (0..site::BUSES)
            .map(|b| format!("tcp:127.0.0.1:{}", 20_000 + b))
            .collect();
        site::build_site(&db, meters, &links);
        let store = Store::open(&db).expect("store");
        let today = jiff::Timestamp::now().to_zoned_datetime(site_tz()).date();
        let from = today.checked_sub(jiff::Span::new().days(30)).expect("date");
        let params = Params::parse(
            Some(&from.to_string()),
            Some(&today.to_string()),
            None,
            Some("unit"),
            None,
            today,
        )
        .expect("params");
        EnergyMonth {
            dir,
            store,
            meters,
            from,
            params,
        }
    }

    /// Energy every meter used in the range: 30 days of 20 kWh increases each.
    pub fn expected_total(&self) -> i64 {
        i64::from(self.meters) * 30 * 20_000
    }

    /// The median of three report runs, and the report's row count; `what` names the
    /// check if the total is wrong.
    pub fn time_report(&self, what: &str) -> (Duration, usize) {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..3 {
            let t0 = Instant::now();
            let t = report::run(&self.store, "energy", &self.params).expect("report");
            times.push(t0.elapsed());
            rows = t.rows.len();
            let total = t.rows.last().and_then(|r| r.last()).cloned();
            assert_eq!(total, Some(Cell::Int(self.expected_total())), "{what}");
        }
        (median(times), rows)
    }

    /// Rolls the closed days up (what a site runs on); returns the readings the pass read
    /// and how long it took.
    pub fn roll_up(&self) -> (usize, Duration) {
        let t0 = Instant::now();
        let pass = voltvend::archive::rollup::roll_up(&self.store, jiff::Timestamp::now(), 10_000)
            .expect("rollup");
        (pass.readings, t0.elapsed())
    }
}
