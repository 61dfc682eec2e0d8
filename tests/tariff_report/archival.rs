//! Data archival on a real store with 420 days of readings: the energy report gives the
//! figures worked out from the inputs before the rollup, after it, and after the raw
//! readings older than 400 days are gone; a second pass changes nothing; a late reading
//! for a rolled-up day is accounted for; the month rows add up the day rows.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use voltvend::archive::{retention, rollup};
use voltvend::auth::Actor;
use voltvend::field::readings::{self, Reading};
use voltvend::import::{Kind, import_file};
use voltvend::report::table::Cell;
use voltvend::report::{self, Params};
use voltvend::site::MeterId;
use voltvend::store::Store;

use crate::support::time::shanghai as tz;

const RETENTION: std::time::Duration = std::time::Duration::from_secs(400 * 86_400);

fn at(d: Date, hour: i8) -> Timestamp {
    d.at(hour, 0, 0, 0)
        .to_zoned_datetime(tz())
        .expect("zoned")
        .timestamp()
}

fn reading(meter: &str, t: Timestamp, wh: i64) -> Reading {
    crate::support::tariff::reading(meter, t, wh, false)
}

fn site(dir: &std::path::Path) -> Store {
    let store = Store::open(&dir.join("a.redb")).expect("store");
    let a = Actor::system("test");
    for (kind, name, text) in [
        (Kind::Buildings, "b.csv", "id,name,floors\nA,Tower A,5\n"),
        (
            Kind::Units,
            "u.csv",
            "unit,building,floor\nA-101,A,1\nA-102,A,1\n",
        ),
        (
            Kind::Gateways,
            "g.csv",
            "id,name,link,buses\nGW1,riser,tcp:127.0.0.1:1502,1:9600:8E1\n",
        ),
        (
            Kind::Meters,
            "m.csv",
            "id,address,profile,gateway,bus,unit\nM1,1,generic-modbus,GW1,1,A-101\nM2,2,generic-modbus,GW1,1,A-102\n",
        ),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        import_file(&store, &a, kind, &p, false).expect("import");
    }
    store
}

/// Energy per (meter, day) by the rule worked out by hand: each reading's increase over
/// the previous one counts on its own day; a reading below the previous one counts nothing.
fn expected(rs: &[Reading]) -> BTreeMap<(String, Date), i64> {
    let mut out = BTreeMap::new();
    let mut prev: BTreeMap<String, i64> = BTreeMap::new();
    let mut sorted: Vec<&Reading> = rs.iter().collect();
    sorted.sort_by_key(|r| (r.meter.to_string(), r.at));
    for r in sorted {
        let m = r.meter.to_string();
        let day = r.at.to_zoned_datetime(tz()).date();
        let e = out.entry((m.clone(), day)).or_insert(0);
        if let Some(p) = prev.get(&m)
            && r.total.0 >= *p
        {
            *e += r.total.0 - p;
        }
        prev.insert(m, r.total.0);
    }
    out
}

/// The energy report by meter for `from..=to`, as (meter, day) → Wh.
fn report_by_meter(store: &Store, from: Date, to: Date) -> BTreeMap<(String, Date), i64> {
    let p = Params::parse(
        Some(&from.to_string()),
        Some(&to.to_string()),
        Some("day"),
        Some("meter"),
        None,
        to,
    )
    .expect("params");
    let t = report::run(store, "energy", &p).expect("energy report");
    let mut out = BTreeMap::new();
    for row in &t.rows {
        let Some(Cell::Text(m)) = row.first() else {
            continue;
        };
        if m == "total" {
            continue;
        }
        let mut d = from;
        for c in &row[1..row.len() - 1] {
            if let Cell::Int(v) = c
                && *v != 0
            {
                out.insert((m.clone(), d), *v);
            }
            d = d.checked_add(1.day()).expect("day");
        }
    }
    out
}

fn in_range(
    m: &BTreeMap<(String, Date), i64>,
    from: Date,
    to: Date,
) -> BTreeMap<(String, Date), i64> {
    m.iter()
        .filter(|((_, d), v)| *d >= from && *d <= to && **v != 0)
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

fn raw_count(store: &Store, meter: &str) -> usize {
    readings::count(store, &MeterId::new(meter)).expect("count")
}

#[test]
fn rollups_keep_the_figures_while_old_raw_readings_go() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = site(dir.path());
    let now = Timestamp::now();
    let today = now.to_zoned_datetime(tz()).date();
    let day0 = today.checked_sub(420.days()).expect("day0");

    // M1: three readings a day with varying use, a register rollback on day 100 and no
    // readings at all on days 200-204; M2: one reading a day. Stored through the
    // collector's own path (which marks the rollback), oldest first.
    let mut all = Vec::new();
    let (mut m1, mut m2) = (1_000_000i64, 50_000i64);
    for i in 0..420i64 {
        let d = day0.checked_add(i.days()).expect("day");
        let mut batch = Vec::new();
        if !(200..=204).contains(&i) {
            for (k, h) in [2i8, 10, 18].into_iter().enumerate() {
                m1 = if i == 100 && k == 1 {
                    500
                } else {
                    m1 + 100 + (i * 7 + k as i64 * 13) % 50
                };
                batch.push(reading("M1", at(d, h), m1));
            }
        }
        m2 += 1_000 + (i % 9) * 10;
        batch.push(reading("M2", at(d, 12), m2));
        all.extend(batch.clone());
        readings::store_batch(&store, batch).expect("store");
    }
    // Today: readings the rollup must leave to the raw path.
    let today_rs = vec![
        reading("M1", at(today, 0), m1 + 40),
        reading("M2", at(today, 0), m2 + 7),
    ];
    all.extend(today_rs.clone());
    readings::store_batch(&store, today_rs).expect("store");
    let want = expected(&all);
    // By hand: day 100 of M1 is 100 (first reading) + nothing (rollback to 500) + 126.
    let day100 = day0.checked_add(100.days()).expect("d");
    assert_eq!(want.get(&("M1".into(), day100)), Some(&226));

    // The report needs ≤ 400 days per run: two windows.
    let mid = day0.checked_add(199.days()).expect("mid");
    let windows = [(day0, mid), (mid.checked_add(1.day()).expect("d"), today)];
    let before: Vec<_> = windows
        .iter()
        .map(|(f, t)| report_by_meter(&store, *f, *t))
        .collect();
    for ((f, t), got) in windows.iter().zip(&before) {
        assert_eq!(got, &in_range(&want, *f, *t), "raw report {f}..{t}");
    }

    // Roll up; every closed day is in the day rows, today is not.
    let r = rollup::roll_up(&store, now, 500).expect("rollup");
    assert_eq!(
        r.readings,
        all.len() - 2,
        "every reading before today, once"
    );
    let m = rollup::mark(&store, "M1")
        .expect("mark")
        .expect("M1 rolled");
    assert_eq!(m.until_ms, rollup::day_start_ms(today, &tz()).expect("ms"));

    // Old raw readings go, in small steps; the newest of each meter always stays.
    let m1_raw = raw_count(&store, "M1");
    let keep_from = now.as_millisecond() - RETENTION.as_millis() as i64;
    let old_m1 = all
        .iter()
        .filter(|r| r.meter.as_str() == "M1" && r.at_ms() < keep_from)
        .count();
    let mut steps = 0;
    let mut removed = 0;
    loop {
        let n = retention::prune_step(&store, now, RETENTION, 10).expect("prune");
        assert!(n <= 10);
        removed += n;
        steps += 1;
        if n == 0 {
            break;
        }
    }
    assert!(steps > 5, "removed in small steps ({steps})");
    assert_eq!(raw_count(&store, "M1"), m1_raw - old_m1);
    let old_m2 = all
        .iter()
        .filter(|r| r.meter.as_str() == "M2" && r.at_ms() < keep_from)
        .count();
    assert_eq!(removed, old_m1 + old_m2);
    assert!(old_m1 > 0 && old_m2 > 0);
    let first_left = readings::history(&store, &MeterId::new("M2"), Timestamp::MIN, Timestamp::MAX)
        .expect("history")
        .first()
        .map(|r| r.at_ms())
        .expect("some left");
    assert!(first_left >= keep_from);

    // (a) The same figures from rollups (old days have no raw readings any more).
    for ((f, t), got_before) in windows.iter().zip(&before) {
        assert_eq!(
            &report_by_meter(&store, *f, *t),
            got_before,
            "after {f}..{t}"
        );
    }
    // Month rows add up the day rows.
    let txn = redb::ReadableDatabase::begin_read(store.db()).expect("txn");
    for meter in ["M1", "M2"] {
        let months = rollup::monthly_in(&txn, meter, 0, u32::MAX).expect("months");
        let mut by_month: BTreeMap<u32, i64> = BTreeMap::new();
        for ((m, d), v) in &want {
            if m == meter && *d < today {
                *by_month.entry(rollup::month_key(*d)).or_insert(0) += v;
            }
        }
        let got: BTreeMap<u32, i64> = months.iter().map(|(k, t)| (*k, t.energy_wh)).collect();
        let by_month: BTreeMap<u32, i64> = by_month.into_iter().filter(|(_, v)| *v != 0).collect();
        let got: BTreeMap<u32, i64> = got.into_iter().filter(|(_, v)| *v != 0).collect();
        assert_eq!(got, by_month, "{meter} months");
    }
    drop(txn);

    // (c) A second pass changes nothing.
    let again = rollup::roll_up(&store, now, 500).expect("again");
    assert_eq!((again.readings, again.days_recomputed), (0, 0));
    assert_eq!(
        retention::prune_step(&store, now, RETENTION, 100).expect("p"),
        0
    );
    for ((f, t), got_before) in windows.iter().zip(&before) {
        assert_eq!(&report_by_meter(&store, *f, *t), got_before);
    }

    // (d) A late reading inside a rolled-up day (M2, ten days ago at 22:00, between that
    // day's reading and the next day's): that day gains 300, the next day loses 300.
    let late_day = today.checked_sub(10.days()).expect("d");
    let prev = all
        .iter()
        .filter(|r| r.meter.as_str() == "M2" && r.at < at(late_day, 22))
        .map(|r| r.total.0)
        .next_back()
        .expect("prev");
    let late = reading("M2", at(late_day, 22), prev + 300);
    {
        let txn = store.db().begin_write().expect("txn");
        readings::put_in(&txn, &late).expect("late");
        txn.commit().expect("commit");
    }
    all.push(late);
    let want = expected(&all);
    let r = rollup::roll_up(&store, now, 500).expect("late pass");
    assert_eq!(r.days_recomputed, 2, "the late reading's day and the next");
    let (f, t) = windows[1];
    let after_late = report_by_meter(&store, f, t);
    assert_eq!(after_late, in_range(&want, f, t));
    let next_day = late_day.checked_add(1.day()).expect("d");
    let key = |d: Date| ("M2".to_string(), d);
    assert_eq!(after_late[&key(late_day)], before[1][&key(late_day)] + 300);
    assert_eq!(after_late[&key(next_day)], before[1][&key(next_day)] - 300);
}

/// The file size of `store` once a day's readings are in, and (when `retention` is given)
/// the day rolled up and the raw readings older than `retention` removed, for `days` days
/// of readings every 30 s of M1 and M2, ending yesterday.
fn file_sizes(
    dir: &std::path::Path,
    days: i64,
    retention: Option<std::time::Duration>,
) -> Vec<u64> {
    let store = site(dir);
    let today = Timestamp::now().to_zoned_datetime(tz()).date();
    let day0 = today.checked_sub(days.days()).expect("day0");
    let mut sizes = Vec::new();
    let mut total = 1_000_000i64;
    for i in 0..days {
        let d = day0.checked_add(i.days()).expect("day");
        let start = at(d, 0);
        for chunk in 0..24i64 {
            let batch: Vec<Reading> = (0..120i64)
                .flat_map(|k| {
                    let t = start + jiff::SignedDuration::from_secs((chunk * 120 + k) * 30);
                    total += 7;
                    [reading("M1", t, total), reading("M2", t, total * 2)]
                })
                .collect();
            readings::store_batch(&store, batch).expect("store");
        }
        if let Some(keep) = retention {
            // The daemon's archival at the start of the next day.
            let next = at(d.checked_add(1.day()).expect("next"), 0);
            rollup::roll_up(&store, next, 5_000).expect("rollup");
            while retention::prune_step(&store, next, keep, 2_000).expect("prune") > 0 {}
        }
        sizes.push(std::fs::metadata(store.path()).expect("size").len());
    }
    sizes
}

/// redb reuses the pages retention frees: once the retention window is full, new readings
/// go into the space of the removed ones and the file stops growing, while without
/// retention it grows by a day of readings every day.
#[test]
fn space_freed_by_retention_is_reused_by_new_readings() {
    const DAYS: i64 = 14;
    let (kept_dir, pruned_dir) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let kept = file_sizes(kept_dir.path(), DAYS, None);
    let pruned = file_sizes(
        pruned_dir.path(),
        DAYS,
        Some(std::time::Duration::from_secs(2 * 86_400)),
    );
    eprintln!("file sizes without retention: {kept:?}");
    eprintln!("file sizes with 2 days' retention: {pruned:?}");
    // From day 6 on the window (2 days and the day being read) has long been full. The
    // file grows in whole regions (doubling), so "no growth" is exact here.
    let (from, to) = (5usize, DAYS as usize - 1);
    assert!(
        kept[to] > kept[from] * 3 / 2,
        "without retention the file grows with the readings: {} → {}",
        kept[from],
        kept[to]
    );
    assert!(
        pruned[from..].iter().all(|s| *s == pruned[from]),
        "with retention, {} days of new readings must go into freed pages: {:?}",
        to - from,
        &pruned[from..]
    );
    assert!(pruned[to] < kept[to]);
}
