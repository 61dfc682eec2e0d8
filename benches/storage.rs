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
//! What is measured is the redb store after `Database::compact` (the store is closed,
//! compacted until redb has nothing left to move, and reopened): the bytes of every table
//! (keys and values, branch pages, the fragmentation inside its pages), which is what the
//! compacted file holds. The file itself grows in whole regions, too coarse for 10,000
//! readings; its size is printed too. Free pages redb reuses do not count; everything a
//! real store keeps (keys, values, audit chain, indexes, B-tree overhead) does:
//!
//! - `charge` = growth of every table but `readings` from storing and settling
//!   `INTERVALS` × 5,000 readings, per reading (operations, key records, audit entries,
//!   indexes, charge basis, balances);
//! - `reading` = growth of the `readings` table per reading at steady state, from a slice
//!   of the site (100 meters × 8 days through the same `store_batch`, see
//!   `readings_steady_state`: a meter's readings are a key range of their own, so its
//!   share does not depend on the number of meters, and a few readings per meter would only
//!   fill leaves split earlier);
//! - `rollup` = growth from one rollup pass per daily row it wrote (an upper bound: the
//!   monthly rows and the per-meter marks are counted in it too);
//! - `sale` = growth from `SALES` cash sales (`Ledger::sale`, a receipt number each), per sale.
//!
//! One warm-up interval is stored and charged before anything is measured (the first charge
//! of each meter starts from the seeded readings of the day before).
//!
//! A day is 48 readings per meter: `per_day = 5,000 × 48 × (reading + charge) + 5,000 ×
//! rollup`, the 240,000 readings and charges of a simulated day scaled up from the
//! `INTERVALS` × 5,000 charges and the slice's readings measured (said in the output).
//! "year" is the store once it has run 400 days with the retention of 400 days: 400 days of raw readings plus 365 days of what retention keeps
//! (today every consumption charge's operation, key record, audit entry and indexes, and
//! the daily rollups): `year = 400 × 5,000 × 48 × reading + 365 × (5,000 × 48 × charge +
//! 5,000 × rollup)`. MB and GB are 10^6 and 10^9 bytes.

#[allow(dead_code)] // only its quick-run and bench-dir helpers are used here
#[path = "support/ledger_run.rs"]
mod ledger_run;
#[path = "support/site.rs"]
mod site;

use std::collections::BTreeMap;
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

/// Bytes each table takes (stored keys and values, branch metadata, fragmentation inside
/// its pages), and the file's size.
struct Snapshot {
    tables: BTreeMap<String, u64>,
    file: u64,
}

impl Snapshot {
    fn total(&self) -> u64 {
        self.tables.values().sum()
    }

    /// Growth from `before`, and the tables that grew most (for the explanation line).
    fn growth(&self, before: &Snapshot, per: u64) -> (u64, String) {
        let mut by: Vec<(&str, i64)> = self
            .tables
            .iter()
            .map(|(t, b)| {
                let a = before.tables.get(t).copied().unwrap_or(0);
                (t.as_str(), *b as i64 - a as i64)
            })
            .filter(|(_, d)| *d != 0)
            .collect();
        by.sort_by_key(|(_, d)| -d.abs());
        let top: Vec<String> = by
            .iter()
            .take(6)
            .map(|(t, d)| format!("{t} {:.0}", *d as f64 / per.max(1) as f64))
            .collect();
        (self.total().saturating_sub(before.total()), top.join(", "))
    }
}

/// The caller has dropped every handle on the store. Compacts the file until redb has
/// nothing left to move and measures every table (see [`Snapshot`]): pages the file holds
/// but no table uses are redb's to reuse, and the file itself grows in whole regions, too
/// coarse for a per-reading figure (its size is printed at the end).
fn compacted(path: &Path) -> Snapshot {
    use redb::{ReadableDatabase, ReadableTableMetadata};
    let mut db = redb::Database::open(path).expect("reopen for compaction");
    while db.compact().expect("compact") {}
    let txn = db.begin_read().expect("read");
    let mut tables = BTreeMap::new();
    for h in txn.list_tables().expect("tables") {
        let name = redb::TableHandle::name(&h).to_string();
        let t = txn.open_untyped_table(h).expect("table");
        let st = t.stats().expect("table stats");
        tables.insert(
            name,
            st.stored_bytes() + st.metadata_bytes() + st.fragmented_bytes(),
        );
    }
    drop(txn);
    drop(db);
    Snapshot {
        tables,
        file: std::fs::metadata(path).expect("store size").len(),
    }
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

/// Meters and days of the steady-state readings run.
const SLICE_METERS: u64 = 100;
const SLICE_DAYS: u64 = 8;

/// Bytes per stored reading once the `readings` table is at steady state: a slice of the
/// site (100 meters) read every 30 minutes for 8 days through `readings::store_batch`, the
/// table measured after day 1 and after day 8. Each meter's readings are a range of their
/// own in the table (key: meter, time), so a meter's share does not depend on how many
/// others there are; a few readings per meter (what the 5,000-meter run stores) only fill
/// the free space of leaves split before, and would read as nothing.
fn readings_steady_state(dir: &Path) -> f64 {
    let path = dir.join("readings-slice.redb");
    let meters: Vec<Meter> = (1..=SLICE_METERS)
        .map(|n| {
            site::records::host_meter(
                &format!("M{n:05}"),
                voltvend::site::model::MeterAddress::Modbus(1),
                voltvend::site::model::Protocol::Modbus,
                voltvend::protocol::profile::DEFAULT_MODBUS_1P,
                "GW000",
            )
        })
        .collect();
    let t0 = jiff::Timestamp::now();
    let day = |store: &Store, d: u64| {
        for k in d * PER_DAY..(d + 1) * PER_DAY {
            let at = t0 + jiff::SignedDuration::from_mins(30 * k as i64);
            let total = 1_600_000 + STEP_WH * (k as i64 + 1);
            let batch = meters.iter().map(|m| reading(m, at, total, k)).collect();
            readings::store_batch(store, batch).expect("store readings");
        }
    };
    let store = Store::open(&path).expect("store");
    day(&store, 0);
    drop(store);
    let a = compacted(&path);
    let store = Store::open(&path).expect("store");
    for d in 1..SLICE_DAYS {
        day(&store, d);
    }
    drop(store);
    let b = compacted(&path);
    let n = SLICE_METERS * PER_DAY * (SLICE_DAYS - 1);
    let bytes = |s: &Snapshot| s.tables.get("readings").copied().unwrap_or(0);
    bytes(&b).saturating_sub(bytes(&a)) as f64 / n as f64
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
    let s0 = compacted(&path);

    // Intervals 1..=N as the collector does them: store, then settle. The charges' growth
    // is every table but `readings` (measured at steady state below).
    let (store, ledger) = open();
    let charger = LedgerCharger::new(store.clone(), ledger.clone());
    for k in 1..=intervals {
        let items = store_interval(&store, &gateways, t0, k);
        settle_interval(&store, &charger, items);
    }
    drop((store, ledger, charger));
    let s2 = compacted(&path);

    let per_reading = readings_steady_state(dir.path());

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
    let s3 = compacted(&path);

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
    let s4 = compacted(&path);

    let measured = intervals * u64::from(METERS);
    let mut s2_charges = Snapshot {
        tables: s2.tables.clone(),
        file: s2.file,
    };
    s2_charges.tables.insert(
        "readings".into(),
        s0.tables.get("readings").copied().unwrap_or(0),
    );
    let (g_charge, why_charge) = s2_charges.growth(&s0, measured);
    let (g_roll, _) = s3.growth(&s2, daily_rows);
    let (g_sale, why_sale) = s4.growth(&s3, sales);
    let per_charge = g_charge as f64 / measured as f64;
    let per_rollup_row = g_roll as f64 / daily_rows as f64;
    let per_sale = g_sale as f64 / sales as f64;
    let readings_day = (u64::from(METERS) * PER_DAY) as f64;
    let day_raw = readings_day * per_reading;
    let day_kept = readings_day * per_charge + f64::from(METERS) * per_rollup_row;
    let per_day = day_raw + day_kept;
    let year = 400.0 * day_raw + 365.0 * day_kept;
    println!(
        "measured {measured} readings ({intervals} of 48 intervals of a day, scaled ×{:.1} to a day) \
         and {sales} sales in {:.0} s; readings at steady state from {} meters × {} days; tables {:.1} MB after the warm-up, {:.1} MB at the end \
         (compacted; file {:.1} MB)",
        PER_DAY as f64 / intervals as f64,
        started.elapsed().as_secs_f64(),
        SLICE_METERS,
        SLICE_DAYS,
        s0.total() as f64 / 1e6,
        s4.total() as f64 / 1e6,
        s4.file as f64 / 1e6,
    );
    println!("bytes per reading charged: {why_charge}");
    println!("bytes per sale: {why_sale}");
    println!(
        "per reading: stored {per_reading:.0} B (steady state), charged {per_charge:.0} B; per daily rollup row \
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
