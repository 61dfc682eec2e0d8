//! `cargo bench --bench reports` in benches/sqlite-compare/: the monthly energy report
//! (5,000 meters × 31 days of readings, by unit, per day) against the same aggregation in
//! SQLite (deltas with LAG, grouped by meter and local day) over the same readings, in the
//! same run; then the report from rollups against the same SQLite query over raw readings.
//! The voltvend side is the root crate's benches/support/energy.rs, the same code as
//! `cargo bench --bench reports` there.

#[path = "../../support/site.rs"]
mod site;

#[path = "../../support/energy.rs"]
mod energy;

use std::time::{Duration, Instant};

use energy::{EnergyMonth, median, site_tz};

/// The same readings in SQLite; the median of three runs of the same aggregation in SQL.
fn sqlite_energy(month: &EnergyMonth) -> Duration {
    let store = &month.store;
    // The peer: the same readings in SQLite, the same aggregation in SQL.
    let conn = rusqlite::Connection::open(month.dir.path().join("peer.sqlite")).expect("sqlite");
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; CREATE TABLE readings(meter TEXT NOT NULL, at INTEGER NOT NULL, total INTEGER NOT NULL, PRIMARY KEY(meter, at)) WITHOUT ROWID;",
    )
    .expect("schema");
    {
        let tx = conn.unchecked_transaction().expect("tx");
        {
            let mut ins = tx
                .prepare("INSERT INTO readings VALUES (?1, ?2, ?3)")
                .expect("prepare");
            for m in voltvend::site::repo::list_meters(store).expect("meters") {
                let rs = voltvend::field::readings::history(
                    store,
                    &m.id,
                    jiff::Timestamp::MIN,
                    jiff::Timestamp::MAX,
                )
                .expect("history");
                for r in rs {
                    ins.execute(rusqlite::params![
                        m.id.as_str(),
                        r.at.as_second(),
                        r.total.0
                    ])
                    .expect("insert");
                }
            }
        }
        tx.commit().expect("commit");
    }
    let start = month
        .from
        .to_zoned_datetime(site_tz())
        .expect("z")
        .timestamp()
        .as_second();
    let sql = "SELECT meter, day, SUM(delta) FROM (
                 SELECT meter, at, date(at, 'unixepoch', '+8 hours') AS day,
                        total - LAG(total) OVER (PARTITION BY meter ORDER BY at) AS delta
                 FROM readings WHERE at >= ?1 - 259200)
               WHERE delta IS NOT NULL AND delta >= 0 AND at >= ?1
               GROUP BY meter, day";
    let mut peer = Vec::new();
    let mut peer_total = 0i64;
    for _ in 0..3 {
        let t0 = Instant::now();
        let mut stmt = conn.prepare_cached(sql).expect("prepare");
        let sum: i64 = stmt
            .query_map([start], |r| r.get::<_, i64>(2))
            .expect("query")
            .map(|x| x.expect("row"))
            .sum();
        peer.push(t0.elapsed());
        peer_total = sum;
    }
    assert_eq!(peer_total, month.expected_total(), "sqlite total");
    median(peer)
}

fn main() {
    let month = EnergyMonth::build();
    let meters = month.meters;
    let (o, rows) = month.time_report("report total");
    let s = sqlite_energy(&month);
    println!(
        "reports: energy month {meters} meters x 31 days by unit ({rows} rows): voltvend={:.1}ms sqlite={:.1}ms ratio={:.2} (goal < 200 ms)",
        o.as_secs_f64() * 1000.0,
        s.as_secs_f64() * 1000.0,
        o.as_secs_f64() / s.as_secs_f64()
    );

    let (readings, rollup_time) = month.roll_up();
    let (r, _) = month.time_report("report total from rollups");
    println!(
        "reports: energy month from rollups: voltvend={:.1}ms sqlite(raw)={:.1}ms ratio={:.2}; rollup pass of {} readings {:.0}ms",
        r.as_secs_f64() * 1000.0,
        s.as_secs_f64() * 1000.0,
        r.as_secs_f64() / s.as_secs_f64(),
        readings,
        rollup_time.as_secs_f64() * 1000.0
    );
}
