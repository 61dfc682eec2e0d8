//! `voltvend serve` as systemd runs it (real binary): READY=1 once it serves, WATCHDOG=1
//! while it runs, an online backup on SIGUSR1 that opens as a store with the data while the
//! daemon keeps serving, and STOPPING=1 on SIGTERM.

use std::os::unix::net::UnixDatagram;
use std::process::Stdio;
use std::time::{Duration, Instant};

use voltvend::auth::operators;
use voltvend::store::Store;

use crate::support::bin::{Daemon, text, voltvend};

/// Every datagram that arrives within `secs`, until `until` is among them.
fn receive_until(sock: &UnixDatagram, until: &str, secs: u64) -> Vec<String> {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while Instant::now() < end {
        if let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            if got.last().is_some_and(|m| m.contains(until)) {
                break;
            }
        }
    }
    got
}

fn health(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}

#[test]
fn serve_notifies_systemd_and_backs_up_online_on_sigusr1() {
    let dir = tempfile::tempdir().expect("tmp");
    let init = voltvend()
        .args(["init", "--dir"])
        .arg(dir.path())
        .output()
        .expect("init");
    assert!(init.status.success(), "{}", text(&init.stderr));
    let config = dir.path().join("voltvend.toml");
    // No Unix socket for this test (the default is /run/voltvend/api.sock).
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("socket =") {
                "socket = \"\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&config, text).expect("config");
    let notify = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&notify).expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let port = voltvend::sim::ports::free_tcp_ports(1).expect("port");
    let mut cmd = voltvend();
    cmd.args(["serve", "--config"])
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("NOTIFY_SOCKET", &notify)
        .env("WATCHDOG_USEC", "1000000")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null());
    let mut serve = Daemon::spawn(cmd);
    let pid = serve.pid();

    // READY=1 comes once the API answers; then a watchdog ping about every 0.5 s.
    let got = receive_until(&sock, "READY=1", 20);
    assert!(
        got.iter().any(|m| m.starts_with("READY=1")),
        "{got:?} {:?}",
        serve.lines()
    );
    assert!(health(port), "the API answers once READY=1 is sent");
    let pings = receive_until(&sock, "never", 2);
    let n = pings.iter().filter(|m| *m == "WATCHDOG=1").count();
    assert!((2..=6).contains(&n), "{n} watchdog pings in 2 s: {pings:?}");

    // SIGUSR1: a snapshot beside the store, written while the daemon serves.
    let snap = dir.path().join("snapshot.redb");
    assert!(!snap.exists());
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGUSR1) }, 0);
    let end = Instant::now() + Duration::from_secs(20);
    while !snap.exists() {
        assert!(Instant::now() < end, "no snapshot: {:?}", serve.lines());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(health(port), "still serving after the backup");
    let copy = dir.path().join("copy.redb");
    std::fs::copy(&snap, &copy).expect("copy");
    let store = Store::open(&copy).expect("the snapshot opens as a store");
    let ops = operators::list(&store).expect("operators");
    assert!(ops.iter().any(|o| o.name == "admin"), "{ops:?}");
    drop(store);

    // SIGTERM: STOPPING=1, then a clean exit.
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let got = receive_until(&sock, "STOPPING=1", 20);
    assert!(got.iter().any(|m| m == "STOPPING=1"), "{got:?}");
    let status = serve.wait();
    assert!(status.success(), "{status:?}");
    assert!(
        serve
            .lines()
            .iter()
            .any(|x| x.contains("online backup written"))
    );
}
