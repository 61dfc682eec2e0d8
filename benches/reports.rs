//! `cargo bench --bench reports`: the monthly energy report (5,000 meters × 31 days of
//! readings, by unit, per day; goal < 200 ms) against the same aggregation in SQLite
//! (deltas with LAG, grouped by meter and local day) over the same readings, in the same
//! run; and the XLSX export of 100,000 rows (goal < 2 s).

#[path = "support/site.rs"]
mod site;

use std::time::{Duration, Instant};

use voltvend::report::table::{Cell, Kind, Table};
use voltvend::report::{self, Params, export};
use voltvend::store::Store;
use voltvend::units::{Fen, Wh};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
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
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz");
    let today = jiff::Timestamp::now().to_zoned_datetime(tz).date();
    let from = today.checked_sub(jiff::Span::new().days(30)).expect("date");
    let p = Params::parse(
        Some(&from.to_string()),
        Some(&today.to_string()),
        None,
        Some("unit"),
        None,
        today,
    )
    .expect("params");

    let mut ours = Vec::new();
    let mut rows = 0;
    for _ in 0..3 {
        let t0 = Instant::now();
        let t = report::run(&store, "energy", &p).expect("report");
        ours.push(t0.elapsed());
        rows = t.rows.len();
        let total = t.rows.last().and_then(|r| r.last()).cloned();
        // 30 days of 20 kWh increases per meter fall in the range.
        assert_eq!(
            total,
            Some(Cell::Int(i64::from(meters) * 30 * 20_000)),
            "report total"
        );
    }

    // The peer: the same readings in SQLite, the same aggregation in SQL.
    let conn = rusqlite::Connection::open(dir.path().join("peer.sqlite")).expect("sqlite");
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
            for m in voltvend::site::repo::list_meters(&store).expect("meters") {
                let rs = voltvend::field::readings::history(
                    &store,
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
    let start = from
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz"))
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
    assert_eq!(peer_total, i64::from(meters) * 30 * 20_000, "sqlite total");
    let (o, s) = (median(ours), median(peer));
    println!(
        "reports: energy month {meters} meters x 31 days by unit ({rows} rows): voltvend={:.1}ms sqlite={:.1}ms ratio={:.2} (goal < 200 ms)",
        o.as_secs_f64() * 1000.0,
        s.as_secs_f64() * 1000.0,
        o.as_secs_f64() / s.as_secs_f64()
    );

    // The same report once the closed days are rolled up (what a site runs on).
    let t0 = Instant::now();
    let pass =
        voltvend::archive::rollup::roll_up(&store, jiff::Timestamp::now(), 10_000).expect("rollup");
    let rollup_time = t0.elapsed();
    let mut rolled = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let t = report::run(&store, "energy", &p).expect("report");
        rolled.push(t0.elapsed());
        let total = t.rows.last().and_then(|r| r.last()).cloned();
        assert_eq!(
            total,
            Some(Cell::Int(i64::from(meters) * 30 * 20_000)),
            "report total from rollups"
        );
    }
    let r = median(rolled);
    println!(
        "reports: energy month from rollups: voltvend={:.1}ms sqlite(raw)={:.1}ms ratio={:.2}; rollup pass of {} readings {:.0}ms",
        r.as_secs_f64() * 1000.0,
        s.as_secs_f64() * 1000.0,
        r.as_secs_f64() / s.as_secs_f64(),
        pass.readings,
        rollup_time.as_secs_f64() * 1000.0
    );

    // Removal of old raw readings: one step (2,000 readings, one write transaction) against
    // what a bus cycle writes (32 readings in one transaction), i.e. how long the collector
    // can wait behind a step.
    let mut steps = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let n = voltvend::archive::retention::prune_step(
            &store,
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
        voltvend::field::readings::store_batch(&store, batch).expect("store");
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
