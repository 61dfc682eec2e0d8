//! API under load on loopback: N concurrent tenant clients (default 200), each on its own
//! keep-alive connection, polling `GET /api/v1/tenant/me` and `GET /api/v1/tenant/usage`
//! for a fixed time on a 5,000-meter site (5,000 tenants, 31 days of daily readings) while
//! the collector reads all 5,000 simulated meters (160 Modbus TCP buses, live sweeps) into
//! the same store. Prints requests/s and latency percentiles, and the collector's full
//! cycles during the run. Run: cargo bench --bench api_load (env: CLIENTS=200 SECONDS=10
//! METERS=5000; PATHS=/api/v1/health polls other routes instead, comma-separated: the same
//! run against the no-op health route is the floor this harness, hyper and the collector
//! leave, to compare the tenant routes with).

#[path = "../tests/support/http.rs"]
mod harness;
#[path = "support/site.rs"]
mod site;

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(
    s: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
    path: &str,
    token: &str,
) -> std::io::Result<u16> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");
    s.write_all(req.as_bytes()).await?;
    buf.clear();
    let mut chunk = [0u8; 16384];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(head[9..12].parse().unwrap_or(0));
        }
    }
}

fn main() {
    let meters: u32 = std::env::var("METERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);

    let clients: usize = std::env::var("CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let secs: u64 = std::env::var("SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let paths: Vec<String> = std::env::var("PATHS")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_else(|_| {
            vec![
                "/api/v1/tenant/me".into(),
                "/api/v1/tenant/usage?days=30".into(),
            ]
        });
    let paths = std::sync::Arc::new(paths);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("site.redb");
        let t0 = Instant::now();
        let _sim = site::build_site_with_sim(&db, meters).await;
        eprintln!("site of {meters} meters built in {:.1}s", t0.elapsed().as_secs_f64());
        let store = voltvend::store::Store::open(&db).expect("store");
        let ledger = voltvend::ledger::Ledger::open(store.clone()).expect("ledger");
        let live = voltvend::field::live::LiveState::new();
        let daemon = voltvend::daemon::Daemon::start_with(
            voltvend::daemon::DaemonConfig {
                db_path: db.clone(),
                listen: ([127, 0, 0, 1], 0).into(),
                socket: None,
                public_url: None,
                site_name: "load".into(),
                printer: voltvend::receipt::PrinterTarget::None,
                sandbox: false,
            },
            store.clone(),
            ledger.clone(),
            live.clone(),
        )
        .await
        .expect("daemon");
        let charger = std::sync::Arc::new(voltvend::field::charge::LedgerCharger::new(store.clone(), ledger.clone()));
        let mut collector = voltvend::field::collector::Collector::spawn_with(
            store.clone(),
            charger,
            &voltvend::protocol::profile::ProfileSet::builtin(),
            voltvend::field::collector::CollectorConfig {
                collection_interval: Duration::from_secs(5),
                live_floor: Duration::from_secs(2),
                ..Default::default()
            },
            live,
        )
        .expect("collector");
        let a = daemon.addr;
        // One login per client for 200 distinct tenants (PIN checks are deliberately slow).
        let units: Vec<String> = (1..=clients.min(meters as usize)).map(|i| format!("U{i:05}")).collect();
        let tokens: Vec<String> = harness::blocking(move || {
            std::thread::scope(|s| {
                let hs: Vec<_> = units
                    .chunks(units.len().div_ceil(8))
                    .map(|c| s.spawn(move || c.iter().map(|u| harness::tenant_login(a, u, "1234")).collect::<Vec<_>>()))
                    .collect();
                hs.into_iter().flat_map(|h| h.join().expect("login")).collect()
            })
        })
        .await;
        // Skip the first full read of 5,000 meters (the worst write burst) before measuring?
        // No: measure while it runs — that is the appliance's real day.
        while collector.try_next_cycle().is_some() {}
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let token = tokens[c % tokens.len()].clone();
            let paths = paths.clone();
            tasks.push(tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(a).await.expect("connect");
                s.set_nodelay(true).ok();
                let mut buf = Vec::new();
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let mut i = 0usize;
                while Instant::now() < deadline {
                    let path = paths[i % paths.len()].as_str();
                    i += 1;
                    let t0 = Instant::now();
                    match get(&mut s, &mut buf, path, &token).await {
                        Ok(200) => lat.push(t0.elapsed()),
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            }));
        }
        let started = Instant::now();
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.expect("client");
            all.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64().max(secs as f64);
        let mut full = 0;
        let mut read = 0;
        while let Some(c) = collector.try_next_cycle() {
            if c.group == "full" {
                full += 1;
                read += c.read;
            }
        }
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
        println!(
            "api load: {clients} clients on {}, {} requests in {:.1}s = {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, errors {errors}",
            paths.join(" + "),
            all.len(),
            elapsed,
            all.len() as f64 / elapsed,
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
        // The one-line summary the issue tracker compares run to run.
        println!(
            "api: clients={clients} p50={:.1}ms p99={:.1}ms rps={:.0}",
            pct(0.5),
            pct(0.99),
            all.len() as f64 / elapsed
        );
        println!("api load: meanwhile the collector finished {full} full bus cycles ({read} meter reads) on {meters} meters");
        collector.shutdown().await;
        daemon.stop().await;
    });
}
