//! API under load on loopback: N concurrent tenant clients (default 200), each on its own
//! keep-alive connection, polling `GET /api/v1/tenant/me` and `GET /api/v1/tenant/usage`
//! for a fixed time on the demo site (78 tenants, ~100 meters, 30 days of readings).
//! Prints requests/s and latency percentiles. Run: cargo bench --bench api_load
//! (env: CLIENTS=200 SECONDS=10).

#[path = "../tests/kiosk/harness.rs"]
mod harness;

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
    let clients: usize = std::env::var("CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let secs: u64 = std::env::var("SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let site = harness::start_site().await;
        let a = site.addr;
        // One login per tenant (PIN checks are deliberately slow; clients share them).
        let units: Vec<String> = (1..=5).flat_map(|f| (1..=8).map(move |i| format!("A-{f}{i:02}"))).collect();
        let tokens: Vec<String> = harness::blocking(move || units.iter().map(|u| harness::tenant_login(a, u, "1234")).collect()).await;
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let token = tokens[c % tokens.len()].clone();
            tasks.push(tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(a).await.expect("connect");
                s.set_nodelay(true).ok();
                let mut buf = Vec::new();
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let path = if i.is_multiple_of(2) { "/api/v1/tenant/me" } else { "/api/v1/tenant/usage?days=30" };
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
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
        println!(
            "api load: {clients} clients, {} requests in {:.1}s = {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, errors {errors}",
            all.len(),
            elapsed,
            all.len() as f64 / elapsed,
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
    });
}
