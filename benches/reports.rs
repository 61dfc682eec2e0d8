//! `cargo bench --bench reports`: the monthly energy report (5,000 meters × 31 days of
//! readings, by unit, per day; goal < 200 ms), the same once the closed days are rolled up,
//! a removal step of old readings against a bus cycle's write, and the XLSX export of
//! 100,000 rows (goal < 2 s).
//!
//! The same energy report against SQLite (the aggregation in SQL over the same readings) is
//! in benches/sqlite-compare/, a crate of its own so that a plain `cargo test` does not
//! compile bundled SQLite.

#[path = "support/site.rs"]
mod site;

#[path = "support/energy.rs"]
mod energy;

use std::time::{Duration, Instant};

use energy::{EnergyMonth, median};
use voltvend::report::export;
use voltvend::report::table::{Cell, Kind, Table};
use voltvend::units::{Fen, Wh};

fn main() {
    let month = EnergyMonth::build();
    let store = &month.store;
    let meters = month.meters;
    let (o, rows) = month.time_report("report total");
    println!(
        "reports: energy month {meters} meters x 31 days by unit ({rows} rows): voltvend={:.1}ms (goal < 200 ms)",
        o.as_secs_f64() * 1000.0
    );

    let (readings, rollup_time) = month.roll_up();
    let (r, _) = month.time_report("report total from rollups");
    println!(
        "reports: energy month from rollups: voltvend={:.1}ms; rollup pass of {} readings {:.0}ms",
        r.as_secs_f64() * 1000.0,
        readings,
        rollup_time.as_secs_f64() * 1000.0
    );

    // Removal of old raw readings: one step (2,000 readings, one write transaction) against
    // what a bus cycle writes (32 readings in one transaction), i.e. how long the collector
    // can wait behind a step.
    let mut steps = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let n = voltvend::archive::retention::prune_step(
            store,
            jiff::Timestamp::now(),
            Duration::from_secs(86_400),
            2_000,
        )
        .expect("prune");
        steps.push(t0.elapsed());
        assert_eq!(n, 2_000, "enough old readings for full steps");
    }
    let mut writes = Vec::new();
    let base = jiff::Timestamp::now();
    for k in 0..5i64 {
        let batch: Vec<_> = (0..32)
            .map(|i| voltvend::field::readings::Reading {
                meter: voltvend::site::MeterId::new(format!("BENCH{i}")),
                at: base + jiff::SignedDuration::from_secs(k),
                total: Wh(k),
                bands: None,
                voltage_dv: vec![],
                current_ma: vec![],
                power_w: None,
                balance: None,
                purchase_count: None,
                relay: None,
                rollback: false,
            })
            .collect();
        let t0 = Instant::now();
        voltvend::field::readings::store_batch(store, batch).expect("store");
        writes.push(t0.elapsed());
    }
    let (st, w) = (median(steps), median(writes));
    println!(
        "reports: removal step of 2000 readings {:.1}ms vs a bus cycle's write of 32 readings {:.1}ms (ratio {:.1}); RS-485 cycle of 32 meters at 9600 baud is ~2 s",
        st.as_secs_f64() * 1000.0,
        w.as_secs_f64() * 1000.0,
        st.as_secs_f64() / w.as_secs_f64()
    );

    // XLSX of 100,000 rows.
    let mut t = Table::new(
        "Sales",
        vec![("from".into(), "2026-01-01".into())],
        &[
            ("time", Kind::Text),
            ("tenant", Kind::Text),
            ("unit", Kind::Text),
            ("method", Kind::Text),
            ("amount", Kind::Money),
            ("energy", Kind::Energy),
            ("count", Kind::Int),
        ],
    );
    for i in 0..100_000i64 {
        t.rows.push(vec![
            Cell::text(format!("2026-11-{:02} 10:{:02}", i % 28 + 1, i % 60)),
            Cell::text(format!("小王面馆 {i}")),
            Cell::text(format!("A-{}", 100 + i % 400)),
            Cell::text(if i % 3 == 0 { "cash" } else { "wechat" }),
            Cell::money(Fen(i * 37 % 100_000)),
            Cell::energy(Wh(i * 1_234 % 9_999_999)),
            Cell::Int(i),
        ]);
    }
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..3 {
        let t0 = Instant::now();
        let bytes = export::xlsx(&t).expect("xlsx");
        times.push(t0.elapsed());
        size = bytes.len();
    }
    let x = median(times);
    println!(
        "reports: xlsx 100000 rows x 7 columns: {:.0}ms, {} KB (goal < 2 s)",
        x.as_secs_f64() * 1000.0,
        size / 1024
    );
}
