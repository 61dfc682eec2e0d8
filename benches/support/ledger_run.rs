//! The voltvend side of the ledger benchmark, shared by `benches/ledger.rs` and the SQLite
//! comparison in `benches/sqlite-compare/` (which includes this file by path).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use voltvend::auth::{Actor, Role};
use voltvend::ledger::{Ledger, MeterAccountInit, OpenAccount, Sale};
use voltvend::site::{BillingMode, MeterId, TenantId};
use voltvend::store::Store;
use voltvend::units::Fen;

/// Sales spread over this many tenants.
pub const TENANTS: usize = 16;

/// Seconds per measurement: `VOLTVEND_BENCH_SECS`, default 3.
pub fn secs() -> Duration {
    let s = std::env::var("VOLTVEND_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3u64);
    Duration::from_secs(s.max(1))
}

/// `cargo bench` passes `--bench`; `cargo test --benches` runs the bench binary too, and
/// then it only says how to run it.
pub fn quick_run(name: &str) -> bool {
    let quick = !std::env::args().any(|a| a == "--bench");
    if quick {
        println!("{name} bench: run with `cargo bench --bench {name}`");
    }
    quick
}

/// A temporary directory on the same disk as the build (not tmpfs), so fsync costs what it
/// costs; `VOLTVEND_BENCH_DIR` chooses another place.
pub fn bench_dir(manifest_dir: &str) -> tempfile::TempDir {
    let base = std::env::var_os("VOLTVEND_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(manifest_dir).join("target"));
    std::fs::create_dir_all(&base).expect("bench base dir");
    tempfile::tempdir_in(&base).expect("bench dir")
}

/// The start of a ledger bench: `None` outside `cargo bench` (see [`quick_run`]), else the
/// run's directory (see [`bench_dir`]), announced with the seconds per measurement.
pub fn start(manifest_dir: &str) -> Option<tempfile::TempDir> {
    if quick_run("ledger") {
        return None;
    }
    let dir = bench_dir(manifest_dir);
    println!(
        "durable sales/s, {} s per measurement, files in {}",
        secs().as_secs(),
        dir.path().display()
    );
    Some(dir)
}

/// [`voltvend_run`] with `writers`, its figure printed; returns sales/s.
pub fn voltvend_reported(dir: &Path, writers: usize) -> u64 {
    let sales = voltvend_run(dir, writers);
    if writers == 1 {
        println!("voltvend  1 writer : {sales:>8} sales/s");
    } else {
        println!("voltvend {writers:>2} writers: {sales:>8} sales/s (group commit)");
    }
    sales
}

/// Runs `sell(writer, n)` from `writers` threads for the measuring time; returns sales/s.
pub fn measure<F>(writers: usize, sell: F) -> u64
where
    F: Fn(usize, u64) + Send + Sync + 'static,
{
    let sell = Arc::new(sell);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let (sell, stop, done) = (sell.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    sell(w, n);
                    n += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(secs());
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("bench writer");
    }
    let elapsed = started.elapsed().as_micros().max(1) as u64;
    done.load(Ordering::Relaxed) * 1_000_000 / elapsed
}

/// Durable voltvend sales per second with `writers` concurrent sellers; the ledger must
/// verify afterwards.
pub fn voltvend_run(dir: &Path, writers: usize) -> u64 {
    let path = dir.join(format!("voltvend-{writers}.redb"));
    let ledger = Ledger::open(Store::open(&path).expect("store")).expect("ledger");
    let cashier = Actor::operator("bench", Role::Cashier);
    for t in 0..TENANTS {
        ledger
            .open_account(
                &cashier,
                &format!("open-{t}"),
                OpenAccount {
                    tenant: TenantId::new(format!("T{t}")),
                    meters: vec![MeterAccountInit {
                        meter: MeterId::new(format!("M{t}")),
                        billing: BillingMode::Host,
                    }],
                    transfer_in: None,
                },
            )
            .expect("open");
    }
    ledger.set_hoarding_cap(Fen(i64::MAX / 2));
    let l = ledger.clone();
    let rate = measure(writers, move |w, n| {
        l.sale(
            &cashier,
            &format!("w{w}-{n}"),
            Sale {
                tenant: TenantId::new(format!("T{}", w % TENANTS)),
                amount: Fen(100),
                method: "cash".into(),
                receipt_no: Some(format!("R{w}-{n}")),
                meter: None,
            },
        )
        .expect("sale");
    });
    let report = ledger.verify().expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    rate
}
