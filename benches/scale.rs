//! `cargo bench --bench scale`: 5,000 simulated meters on 160 buses (Modbus TCP gateways,
//! unpaced), one full read cycle of every meter by the real collector in its own process
//! (`voltvend collect --once`, the daemon's code path: bus tasks, reads, readings stored).
//! Prints the cycle time, the slowest bus, CPU seconds and the collector's peak RSS
//! (VmHWM), ending with `scale: meters=5000 cycle=Xs rss=YMB` (goal: RSS < 64 MB).

use std::process::Command;

use voltvend::auth::roles::{Actor, Role};
use voltvend::protocol::profile::DEFAULT_MODBUS_1P;
use voltvend::site::model::{MeterAddress, Protocol};
use voltvend::store::Store;

#[path = "support/site.rs"]
mod site;

use site::records::{host_meter, one_bus_gateway};
use site::{BUSES, per_bus};

const METERS: u32 = 5000;

// Two workers, like the 2-core appliance. `cargo bench` passes --bench; nothing to parse.
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Meters spread evenly: 40 buses of 32 and 120 of 31.
    let (_sim, links) = site::spawn_sim(METERS).await;

    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("scale.redb");
    {
        let store = Store::open(&db).expect("store");
        let admin = Actor::operator("admin", Role::Admin);
        let txn = store.db().begin_write().expect("txn");
        let mut n = 0u32;
        for b in 0..BUSES {
            let gid = format!("GW{b:03}");
            let g = one_bus_gateway(&gid, format!("gateway {b}"), &links[b as usize], 9600);
            voltvend::site::repo::upsert_gateway(&txn, &admin, &g).expect("gateway");
            for a in 1..=per_bus(METERS, b) {
                n += 1;
                let id = format!("M{n:05}");
                let address = MeterAddress::Modbus(a as u8);
                let m = host_meter(&id, address, Protocol::Modbus, DEFAULT_MODBUS_1P, &gid);
                voltvend::site::repo::upsert_meter(&txn, &admin, &m).expect("meter");
            }
        }
        txn.commit().expect("commit");
        assert_eq!(n, METERS);
    }

    let db_text = db.to_str().expect("utf-8 path").to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_voltvend"))
            .args(["collect", "--once", "--db", &db_text, "--tries", "2"])
            .env("RUST_LOG", "warn")
            .output()
            .expect("run voltvend collect")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        panic!(
            "collect failed: {}\n{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let line = stdout
        .lines()
        .find(|l| l.starts_with("collect:"))
        .expect("collect summary line");
    println!("{line}");
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .unwrap_or("?")
            .to_string()
    };
    let rss_kb: u64 = field("rss_peak_kb").parse().unwrap_or(0);
    assert_eq!(field("read"), METERS.to_string(), "every meter read");
    println!(
        "scale: meters={METERS} cycle={} rss={}MB",
        field("cycle"),
        rss_kb.div_ceil(1024)
    );
}
