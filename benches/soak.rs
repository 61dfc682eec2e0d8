//! Memory while serving: the real `voltvend serve --field` (a child process) reads 160
//! simulated Modbus TCP meters (one per gateway, unpaced) every minute with live sweeps every
//! 2 s, while a tenant polls the API, for MINUTES minutes (default 3). The daemon's resident
//! set is sampled after a warm-up (the first full cycle, the store's hot pages cached) and at
//! the end. Prints `soak: minutes=N rss_start=…MB rss_end=…MB growth=…MB`.
//! Run: cargo bench --bench soak (env: MINUTES=3 WARMUP_S=40).

#[path = "../tests/support/http.rs"]
mod harness;
#[path = "support/site.rs"]
mod site;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const METERS: u32 = 160;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// VmRSS of `pid` in kB, from /proc (Linux).
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    let minutes = env_u64("MINUTES", 3);
    let warmup = Duration::from_secs(env_u64("WARMUP_S", 40));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("site.redb");
    let _sim = rt.block_on(site::build_site_with_sim(&db, METERS));
    let config = dir.path().join("voltvend.toml");
    std::fs::write(
        &config,
        format!(
            "[paths]\ndata_dir = {dir:?}\nstore = {db:?}\n\
             [api]\nlisten = \"127.0.0.1:0\"\nsocket = \"\"\n\
             [collector]\ninterval = \"1m\"\nlive_sweep_floor = \"2s\"\n",
            dir = dir.path().display().to_string(),
            db = db.display().to_string(),
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_voltvend"))
        .args(["serve", "--field", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start voltvend serve");
    let pid = child.id();
    // The daemon prints its address once it listens.
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr: std::net::SocketAddr = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("voltvend serve stopped before listening");
        };
        if let Some(rest) = line.split("http://").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .and_then(|a| a.parse().ok())
                .expect("address in the serving line");
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let token = harness::tenant_login(addr, "U00001", "1234");
    let poll = |until: Instant| {
        let mut n = 0u64;
        while Instant::now() < until {
            for path in ["/api/v1/tenant/me", "/api/v1/tenant/usage?days=30"] {
                let r = harness::http(addr, "GET", path, Some(&token), None);
                assert_eq!(r.status, 200, "{path}: {}", r.text());
                n += 1;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        n
    };
    let t0 = Instant::now();
    poll(t0 + warmup);
    let start = rss_kb(pid).expect("rss after warm-up");
    let requests = poll(t0 + warmup + Duration::from_secs(minutes * 60));
    let end = rss_kb(pid).expect("rss at the end");
    let _ = child.kill();
    let _ = child.wait();
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "soak: minutes={minutes} rss_start={:.1}MB rss_end={:.1}MB growth={:.1}MB ({METERS} meters, {requests} API requests)",
        mb(start),
        mb(end),
        mb(end) - mb(start),
    );
}
