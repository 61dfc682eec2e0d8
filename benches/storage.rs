//! How fast the store grows on a 5,000-meter site read every 30 minutes, and what a cash
//! sale costs in it.
//!
//! `cargo bench --bench storage` (env: `INTERVALS`, default 4; `SALES`, default 2,000).
//!
//! The site is `benches/support/site.rs`'s: 5,000 host-billed meters, one tenant and open
//! account each, 31 days of daily readings. Every simulated interval goes through the
//! collector's own path (`Collector::store_and_charge` calls the same two functions):
//! `readings::store_batch` per gateway (160 gateways, one transaction each), then
//! `suspect::settle` with the production `LedgerCharger` (the consumption charge, the
//! charge basis). Each reading is a full single-phase reading (total, four TOU bands,
//! voltage, current, power, balance, purchase count, relay), 0.5 kWh more than the last.
//!
//! What is measured is the size of the redb store after `Database::compact` (the store is
//! closed, compacted until redb has nothing left to move, and reopened): its allocated
//! pages × page size, which is what the file shrinks to (the file itself moves in whole
//! regions, too coarse for 10,000 readings; its size is printed too). Pages redb could give
//! back do not count; everything a real store keeps (B-tree pages, keys, values, audit
//! chain, indexes) does:
//!
//! - `reading` = growth from storing `INTERVALS` × 5,000 readings, per reading;
//! - `charge` = growth from settling (charging) those readings, per reading;
//! - `rollup` = growth from one rollup pass per daily row it wrote (an upper bound: the
//!   monthly rows and the per-meter marks are counted in it too);
//! - `sale` = growth from `SALES` cash sales (`Ledger::sale`, a receipt number each), per sale.
//!
//! One warm-up interval is stored and charged before anything is measured (the first charge
//! of each meter starts from the seeded readings of the day before).
//!
//! A day is 48 readings per meter: `per_day = 5,000 × 48 × (reading + charge) + 5,000 ×
//! rollup`, the 240,000 readings of a simulated day scaled up from the `INTERVALS` × 5,000
//! measured (said in the output). "year" is the store once it has run 400 days with the
//! retention of 400 days: 400 days of raw readings plus 365 days of what retention keeps
//! (today every consumption charge's operation, key record, audit entry and indexes, and
//! the daily rollups): `year = 400 × 5,000 × 48 × reading + 365 × (5,000 × 48 × charge +
//! 5,000 × rollup)`. MB and GB are 10^6 and 10^9 bytes.

#[allow(dead_code)] // only its quick-run and bench-dir helpers are used here
#[path = "support/ledger_run.rs"]
mod ledger_run;
#[path = "support/site.rs"]
mod site;

use std::path::Path;
use std::sync::Arc;

use voltvend::auth::{Actor, Role};
use voltvend::field::charge::LedgerCharger;
use voltvend::field::plausible::Plausibility;
use voltvend::field::readings::{self, Reading, Relay};
use voltvend::field::suspect;
use voltvend::ledger::{Ledger, Sale};
use voltvend::site::model::Meter;
use voltvend::site::{TenantId, repo};
use voltvend::store::Store;
use voltvend::units::{Fen, Wh};

const METERS: u32 = 5_000;
const PER_DAY: u64 = 48;
/// Rated power given to the plausibility check (a 60 A single-phase meter).
const RATED_W: i64 = 13_800;
/// Energy per meter per interval: 1 kW for 30 minutes.
const STEP_WH: i64 = 500;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The caller has dropped every handle on the store. Compacts the file until redb has
/// nothing left to move, and returns the bytes of its allocated pages (what the file holds;
/// the file itself grows and shrinks in whole regions, too coarse for a per-reading figure)
/// and the file's size.
fn compacted_size(path: &Path) -> (u64, u64) {
    let mut db = redb::Database::open(path).expect("reopen for compaction");
    while db.compact().expect("compact") {}
    let txn = db.begin_write().expect("stats txn");
    let stats = txn.stats().expect("stats");
    let used = stats.allocated_pages() * stats.page_size() as u64;
    txn.abort().expect("abort");
    drop(db);
    (used, std::fs::metadata(path).expect("store size").len())
}

fn reading(meter: &Meter, at: jiff::Timestamp, total: i64, n: u64) -> Reading {
    let q = total / 4;
    Reading {
        meter: meter.id.clone(),
        at,
        total: Wh(total),
        bands: Some([
            Wh(q / 8),
            Wh(q),
            Wh(q + q / 2),
            Wh(total - q / 8 - q - q - q / 2),
        ]),
        voltage_dv: vec![2200 + (n % 30) as i64],
        current_ma: vec![4_300 + (n % 500) as i64],
        power_w: Some(1_000 + (n % 200) as i64),
        balance: Some(Fen(100_000 - 50 * n as i64)),
        purchase_count: Some(1),
        relay: Some(Relay::Closed),
        rollback: false,
    }
}

/// The meters grouped by gateway, as the collector's bus tasks hold them.
fn meters_by_gateway(store: &Store) -> Vec<Vec<Meter>> {
    let mut by: std::collections::BTreeMap<String, Vec<Meter>> = Default::default();
    for m in repo::list_meters(store).expect("meters") {
        by.entry(m.gateway.to_string()).or_default().push(m);
    }
    by.into_values().collect()
}

/// Stores interval `k` of every meter (one `store_batch` per gateway); returns the items the
/// collector would settle.
fn store_interval(
    store: &Store,
    gateways: &[Vec<Meter>],
    t0: jiff::Timestamp,
    k: u64,
) -> Vec<Vec<suspect::Item>> {
    let at = t0 + jiff::SignedDuration::from_mins(30 * k as i64);
    // Continues the seeded registers (1,600,000 Wh on the last seeded day).
    let total = 1_600_000 + STEP_WH * (k as i64 + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = gateways
            .chunks(gateways.len().div_ceil(16))
            .map(|chunk| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    for gw in chunk {
                        let batch: Vec<Reading> =
                            gw.iter().map(|m| reading(m, at, total, k)).collect();
                        let pairs = readings::store_batch(store, batch).expect("store readings");
                        out.push(
                            gw.iter()
                                .cloned()
                                .zip(pairs)
                                .map(|(meter, (prev, cur))| suspect::Item {
                                    meter,
                                    rated_w: RATED_W,
                                    prev,
                                    cur,
                                })
                                .collect(),
                        );
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("store thread"))
            .collect()
    })
}

/// Settles one interval (one `settle` per gateway, 16 at a time, as 160 bus tasks would).
fn settle_interval(store: &Store, charger: &LedgerCharger, items: Vec<Vec<suspect::Item>>) {
    let plaus = Plausibility::default();
    let per = items.len().div_ceil(16);
    let mut chunks: Vec<Vec<Vec<suspect::Item>>> = Vec::new();
    let mut it = items.into_iter().peekable();
    while it.peek().is_some() {
        chunks.push(it.by_ref().take(per).collect());
    }
    std::thread::scope(|s| {
        for chunk in chunks {
            s.spawn(move || {
                for gw in chunk {
                    let out = suspect::settle(store, charger, &plaus, gw).expect("settle");
                    assert!(
                        out.iter().all(|o| *o == suspect::Settled::Charged),
                        "every reading is charged: {out:?}"
                    );
                }
            });
        }
    });
}

fn main() {
    if ledger_run::quick_run("storage") {
        return;
    }
    let intervals = env_u64("INTERVALS", 4).max(1);
    let sales = env_u64("SALES", 2_000).max(1);
    let dir = ledger_run::bench_dir(env!("CARGO_MANIFEST_DIR"));
    let path = dir.path().join("storage.redb");
    let links: Vec<String> = (0..site::BUSES)
        .map(|b| format!("tcp:127.0.0.1:{}", 20_000 + b))
        .collect();
    let started = std::time::Instant::now();
    site::build_site(&path, METERS, &links);
    let t0 = jiff::Timestamp::now();

    let open = || {
        let store = Store::open(&path).expect("store");
        let ledger = Ledger::open(store.clone()).expect("ledger");
        (store, ledger)
    };

    // Warm-up interval 0: every meter's first charge, from the seeded day before.
    let (store, ledger) = open();
    let gateways = meters_by_gateway(&store);
    let charger = LedgerCharger::new(store.clone(), ledger.clone());
    let items = store_interval(&store, &gateways, t0, 0);
    settle_interval(&store, &charger, items);
    drop((store, ledger, charger));
    let (s0, _) = compacted_size(&path);

    // Readings of intervals 1..=N, then their charges, measured apart.
    let (store, ledger) = open();
    let pending: Vec<_> = (1..=intervals)
        .map(|k| store_interval(&store, &gateways, t0, k))
        .collect();
    drop((store, ledger));
    let (s1, _) = compacted_size(&path);
    let (store, ledger) = open();
    let charger = LedgerCharger::new(store.clone(), ledger.clone());
    for items in pending {
        settle_interval(&store, &charger, items);
    }
    drop((store, ledger, charger));
    let (s2, _) = compacted_size(&path);

    // Daily rollups of every day so far (the seeded month and the simulated hours).
    let (store, ledger) = open();
    let end = t0 + jiff::SignedDuration::from_hours(48 + intervals as i64);
    voltvend::archive::rollup::roll_up(&store, end, 10_000).expect("rollup");
    let daily_rows = {
        use redb::{ReadableDatabase, ReadableTableMetadata};
        let txn = store.db().begin_read().expect("read");
        let t = txn
            .open_table(voltvend::archive::rollup::DAILY)
            .expect("daily");
        t.len().expect("rows").max(1)
    };
    drop((store, ledger));
    let (s3, _) = compacted_size(&path);

    // Cash sales.
    let (store, ledger) = open();
    let cashier = Actor::operator("bench", Role::Cashier);
    let ledger = Arc::new(ledger);
    std::thread::scope(|s| {
        for w in 0..16u64 {
            let (ledger, cashier) = (ledger.clone(), cashier.clone());
            s.spawn(move || {
                for n in (w..sales).step_by(16) {
                    let t = 1 + n % u64::from(METERS);
                    ledger
                        .sale(
                            &cashier,
                            &format!("bench-sale-{n}"),
                            Sale {
                                tenant: TenantId::new(format!("T{t:05}")),
                                amount: Fen(100),
                                method: "cash".into(),
                                receipt_no: Some(format!("R{n:08}")),
                                meter: None,
                            },
                        )
                        .expect("sale");
                }
            });
        }
    });
    let report = ledger.verify().expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    drop((store, ledger));
    let (s4, file_end) = compacted_size(&path);

    let measured = intervals * u64::from(METERS);
    let per_reading = s1.saturating_sub(s0) as f64 / measured as f64;
    let per_charge = s2.saturating_sub(s1) as f64 / measured as f64;
    let per_rollup_row = s3.saturating_sub(s2) as f64 / daily_rows as f64;
    let per_sale = s4.saturating_sub(s3) as f64 / sales as f64;
    let readings_day = (u64::from(METERS) * PER_DAY) as f64;
    let day_raw = readings_day * per_reading;
    let day_kept = readings_day * per_charge + f64::from(METERS) * per_rollup_row;
    let per_day = day_raw + day_kept;
    let year = 400.0 * day_raw + 365.0 * day_kept;
    println!(
        "measured {measured} readings ({intervals} of 48 intervals of a day, scaled ×{:.1} to a day) \
         and {sales} sales in {:.0} s; store pages {:.1} MB after the warm-up, {:.1} MB at the end \
         (compacted; file {:.1} MB)",
        PER_DAY as f64 / intervals as f64,
        started.elapsed().as_secs_f64(),
        s0 as f64 / 1e6,
        s4 as f64 / 1e6,
        file_end as f64 / 1e6,
    );
    println!(
        "per reading: stored {per_reading:.0} B, charged {per_charge:.0} B; per daily rollup row \
         {per_rollup_row:.0} B ({daily_rows} rows); raw readings {:.1} MB/day, kept forever {:.1} MB/day",
        day_raw / 1e6,
        day_kept / 1e6,
    );
    println!(
        "storage: meters={METERS} interval=30m per_day={:.1}MB year={:.2}GB sale={per_sale:.0}B",
        per_day / 1e6,
        year / 1e9,
    );
}
