//! Shared by the API and kiosk tests: a real daemon on a seeded demo store in a temp dir
//! (port 0), a simulated TCP receipt printer writing into a folder, and a tiny HTTP/1.1
//! client over a plain TcpStream (no extra crates).

#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use voltvend::daemon::seed::seed_demo_days;
use voltvend::daemon::{Daemon, DaemonConfig};
use voltvend::field::live::LiveState;
use voltvend::ledger::Ledger;
use voltvend::receipt::PrinterTarget;
use voltvend::store::Store;

pub struct Site {
    pub daemon: Option<Daemon>,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub receipts: PathBuf,
    pub printer: SocketAddr,
}

impl Site {
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("voltvend.redb")
    }
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

/// Starts a seeded site (2 days of history) with the sandbox provider and a TCP printer.
pub async fn start_site() -> Site {
    let dir = tempfile::tempdir().expect("tempdir");
    let receipts = dir.path().join("receipts");
    std::fs::create_dir_all(&receipts).expect("receipts dir");
    let printer = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("printer");
    let printer_addr = printer.local_addr().expect("addr");
    tokio::spawn(voltvend::receipt::sink::serve(printer, receipts.clone()));
    let d = start_on(dir.path().join("voltvend.redb"), printer_addr, true).await;
    Site {
        addr: d.addr,
        daemon: Some(d),
        dir,
        receipts,
        printer: printer_addr,
    }
}

/// Opens `db`. On a restart in the same process the previous daemon's last detached task
/// (a receipt print, a closing connection) may still hold its handle for a moment, and redb
/// refuses a second open of a file; a real restart is a new process, so waiting is right.
async fn open_when_released(db: &std::path::Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Store::open(db) {
            Ok(s) => return s,
            Err(voltvend::store::StoreError::Open {
                source: redb::DatabaseError::DatabaseAlreadyOpen,
                ..
            }) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("store {}: {e}", db.display()),
        }
    }
}

/// Starts (or restarts) the daemon on `db`, seeding it if empty.
pub async fn start_on(db: PathBuf, printer: SocketAddr, seed: bool) -> Daemon {
    let store = open_when_released(&db).await;
    let ledger = Ledger::open(store.clone()).expect("ledger");
    if seed {
        let (s, l) = (store.clone(), ledger.clone());
        // Two days of history keep tests fast; screenshots for docs use the demo's 30.
        let days = if std::env::var_os("VOLTVEND_DOCS_IMG").is_some() {
            30
        } else {
            2
        };
        tokio::task::spawn_blocking(move || seed_demo_days(&s, &l, jiff::Timestamp::now(), days))
            .await
            .expect("join")
            .expect("seed");
    }
    Daemon::start_with(
        DaemonConfig {
            db_path: db,
            listen: "127.0.0.1:0".parse().expect("addr"),
            socket: None,
            public_url: None,
            site_name: "测试广场 Test Plaza".into(),
            printer: PrinterTarget::Tcp(printer.to_string()),
            sandbox: true,
        },
        store,
        ledger,
        LiveState::new(),
    )
    .await
    .expect("daemon")
}

/// A response: status, headers text and body.
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

/// One HTTP/1.1 request (blocking; call from `spawn_blocking` or a plain thread).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Resp {
    raw(
        addr,
        method,
        path,
        token,
        body.map(|b| b.to_string().into_bytes()),
        &[],
    )
}

pub fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
    extra: &[(&str, &str)],
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or_default();
    req.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(&body).expect("write body");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read");
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status = head[9..12].parse().expect("status");
    let mut body = buf[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Resp { status, head, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[i + 2 + n + 2..];
    }
    out
}

/// Logs the demo's admin in, choosing `new_password` at the forced first-login change;
/// returns the session token (blocking).
pub fn demo_admin_token(addr: SocketAddr, new_password: &str) -> String {
    use voltvend::daemon::seed::{DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD};
    let login = |pw: &str| {
        let body = serde_json::json!({"name": DEMO_OPERATOR, "password": pw});
        let r = http(addr, "POST", "/api/v1/login", None, Some(&body));
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["token"].as_str().expect("token").to_string()
    };
    let t = login(DEMO_OPERATOR_PASSWORD);
    let body =
        serde_json::json!({"old_password": DEMO_OPERATOR_PASSWORD, "new_password": new_password});
    let r = http(addr, "POST", "/api/v1/password", Some(&t), Some(&body));
    assert!(r.status < 300, "{}", r.text());
    login(new_password)
}

/// Tenant login; returns the token.
pub fn tenant_login(addr: SocketAddr, unit: &str, pin: &str) -> String {
    let r = http(
        addr,
        "POST",
        "/api/v1/tenant/login",
        None,
        Some(&serde_json::json!({"unit": unit, "pin": pin})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["token"].as_str().expect("token").to_string()
}

/// A tenant's top-up order of `fen` under idempotency `key` (the kiosk's "Pay").
pub fn start_topup(addr: SocketAddr, token: &str, fen: i64, key: &str) -> Resp {
    let body = serde_json::json!({"amount_fen": fen, "idempotency_key": key});
    http(
        addr,
        "POST",
        "/api/v1/tenant/topups",
        Some(token),
        Some(&body),
    )
}

/// Runs blocking HTTP calls off the async runtime.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("join")
}

/// Waits until `path` exists (receipts are printed in the background).
pub async fn wait_file(path: &std::path::Path) {
    for _ in 0..100 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{} never appeared", path.display());
}
