//! The secure gateway link end to end: the real `voltvend collect` reads a plain Modbus TCP
//! gateway, a raw RTU-over-TCP serial server and a `voltvend gateway` (the real binary,
//! bridging a simulated RS-485 bus on a pty) side by side. Between the gateway and the
//! server sits a hostile relay that replays frames, flips bits, replays a frame of an
//! older session and cuts the connection in the middle of a frame: every bad frame is
//! dropped and counted, the gateway reconnects with fresh session keys, and the meters
//! behind it keep being read.

use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use voltvend::field::readings;
use voltvend::field::secure::read_frame;
use voltvend::sim::{Building, BusConfig, MeterConfig, SimConfig, SimProtocol};
use voltvend::site::MeterId;
use voltvend::site::model::Protocol;
use voltvend::store::Store;

use crate::support::bin::Daemon;
use crate::support::field::{SiteMeter, build_site};
use crate::support::store::temp_db;

fn bus(transport: &str) -> BusConfig {
    let mut b = BusConfig::quick(0, SimProtocol::Modbus, transport, 9600);
    b.turnaround_ms = 5;
    for (a, w) in [("1", 1200), ("2", 700)] {
        b.meter.push(MeterConfig {
            address: a.into(),
            fixed_w: Some(w),
            ..MeterConfig::default()
        });
    }
    b
}

/// `voltvend collect` on `db` every second (no live sweeps), gateway links keyed by `key`,
/// with `more` arguments.
fn collect_with_key(db: &std::path::Path, key: &std::path::Path, more: &[&str]) -> Daemon {
    let mut args = vec![
        "collect",
        "--db",
        db.to_str().expect("utf-8"),
        "--link-key-file",
        key.to_str().expect("utf-8"),
        "--interval-s",
        "1",
        "--no-live",
    ];
    args.extend_from_slice(more);
    Daemon::start(&args)
}

fn free_port() -> u16 {
    voltvend::sim::ports::free_tcp_ports(1).expect("free port")
}

/// What the relay did, for the assertions.
#[derive(Default)]
struct Mischief {
    connections: usize,
    replayed: usize,
    flipped: usize,
    old_session: usize,
    cut: usize,
}

/// Relays gateway → server frames, misbehaving on purpose:
/// - 1st connection: after the 4th frame, sends the 3rd again (a replay) and a copy of the
///   4th with one ciphertext bit flipped (tampering); at the 12th frame it sends half of
///   it and closes both sides (truncation);
/// - later connections: before the first data frame after the identification, sends a
///   frame of the first session (a replay across sessions: other keys).
async fn hostile_relay(listener: TcpListener, server: u16, log: Arc<Mutex<Mischief>>) {
    let mut saved: Option<Vec<u8>> = None;
    loop {
        let Ok((gw, _)) = listener.accept().await else {
            return;
        };
        // The server may not listen yet: drop this one, the gateway dials again.
        let Ok(srv) = TcpStream::connect(("127.0.0.1", server)).await else {
            continue;
        };
        let conn = {
            let mut m = log.lock().unwrap();
            m.connections += 1;
            m.connections
        };
        let (mut gr, mut gw_w) = gw.into_split();
        let (mut sr, mut sw) = srv.into_split();
        // Server → gateway: relayed as is.
        let back = tokio::spawn(async move {
            while let Ok(Some(f)) = read_frame(&mut sr).await {
                if gw_w.write_all(&f).await.is_err() {
                    break;
                }
            }
        });
        let mut n = 0usize;
        let mut prev: Option<Vec<u8>> = None;
        while let Ok(Some(f)) = read_frame(&mut gr).await {
            n += 1;
            if conn > 1
                && n == 3
                && let Some(old) = &saved
            {
                let _ = sw.write_all(old).await;
                log.lock().unwrap().old_session += 1;
            }
            if conn == 1 && n == 12 {
                let _ = sw.write_all(&f[..f.len() / 2]).await;
                log.lock().unwrap().cut += 1;
                break;
            }
            if sw.write_all(&f).await.is_err() {
                break;
            }
            if conn == 1 && n == 4 {
                if let Some(p) = &prev {
                    let _ = sw.write_all(p).await;
                    log.lock().unwrap().replayed += 1;
                }
                let mut t = f.clone();
                t[14] ^= 0x01; // first ciphertext byte
                let _ = sw.write_all(&t).await;
                log.lock().unwrap().flipped += 1;
                saved = Some(f.clone());
            }
            prev = Some(f);
        }
        back.abort();
        drop(sw);
    }
}

fn full_ok(gateway: &str) -> impl Fn(&str) -> bool + '_ {
    move |l: &str| {
        l.contains("bus cycle")
            && l.contains(&format!("gateway={gateway}"))
            && l.contains("full")
            && l.contains("read=2")
            && l.contains("failed=0")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_and_secure_gateways_side_by_side_through_a_hostile_relay() {
    let sim = Building::spawn(SimConfig {
        seed: Some(7),
        buses: vec![
            bus("tcp:127.0.0.1:0"),
            bus("rtu-over-tcp:127.0.0.1:0"),
            bus("pty"),
        ],
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let links: Vec<String> = sim.buses().iter().map(|b| b.link()).collect();
    let pty = links[2]
        .strip_prefix("serial:")
        .expect("pty link")
        .to_string();

    let (dir, db) = temp_db();
    let key = dir.path().join("link.key");
    std::fs::write(&key, "00112233445566778899AABBCCDDEEFF\n").expect("key");
    let server_port = free_port();
    let secure = format!("secure:127.0.0.1:{server_port}");
    let mut meters = Vec::new();
    let ids = [
        ("GW1", ["P1", "P2"]),
        ("GW2", ["R1", "R2"]),
        ("GW3", ["S1", "S2"]),
    ];
    for (gw, ms) in &ids {
        for (i, id) in ms.iter().enumerate() {
            meters.push(SiteMeter {
                id,
                gateway: gw,
                address: if i == 0 { "1" } else { "2" },
                protocol: Protocol::Modbus,
                profile: "acrel-ddsy1352-nk",
            });
        }
    }
    build_site(
        &db,
        &[
            ("GW1", links[0].as_str()),
            ("GW2", links[1].as_str()),
            ("GW3", secure.as_str()),
        ],
        &meters,
        "0.8523",
    );

    let collector = collect_with_key(&db, &key, &["--tries", "2", "--turnaround-ms", "100"]);
    let relay = TcpListener::bind("127.0.0.1:0").await.expect("relay");
    let relay_port = relay.local_addr().expect("addr").port();
    let mischief = Arc::new(Mutex::new(Mischief::default()));
    let relay_task = tokio::spawn(hostile_relay(relay, server_port, mischief.clone()));
    let gateway = Daemon::start(&[
        "gateway",
        "--serial",
        &pty,
        "--connect",
        &format!("127.0.0.1:{relay_port}"),
        "--key-file",
        key.to_str().expect("utf-8"),
        "--id",
        "GW3",
    ]);

    let wait = |d: &Daemon, what: &str, from: usize, pred: &dyn Fn(&str) -> bool| {
        tokio::task::block_in_place(|| d.wait_for(from, what, pred))
    };
    // Plain gateways read fully.
    wait(&collector, "GW1 full cycle", 0, &full_ok("GW1"));
    wait(&collector, "GW2 full cycle", 0, &full_ok("GW2"));
    // The secure bus reads fully, then the relay cuts it mid-frame…
    wait(&collector, "GW3 full cycle", 0, &full_ok("GW3"));
    let cut = wait(&collector, "the cut connection", 0, &|l: &str| {
        l.contains("secure gateway connection ended") && l.contains("truncated")
    });
    // …and after the reconnect (new session keys) it reads fully again.
    wait(
        &collector,
        "GW3 full cycle after reconnect",
        cut,
        &full_ok("GW3"),
    );
    let lines = collector.lines();
    let dropped = |what: &str| {
        lines
            .iter()
            .filter(|l| l.contains("frame dropped") && l.contains(what))
            .count()
    };
    {
        let m = mischief.lock().unwrap();
        assert!(m.connections >= 2, "the gateway did not reconnect");
        assert_eq!((m.replayed, m.flipped, m.cut), (1, 1, 1));
        assert!(
            m.old_session >= 1,
            "no frame of the first session was replayed"
        );
    }
    assert_eq!(
        dropped("is not after"),
        1,
        "replay not refused:\n{}",
        lines.join("\n")
    );
    // The flipped frame and the frame from the first session both fail their MAC.
    assert!(
        dropped("MAC does not verify") >= 2,
        "tampering not refused:\n{}",
        lines.join("\n")
    );
    let gw_lines = gateway.stop(false);
    let summary = gw_lines
        .iter()
        .find(|l| l.contains("gateway stopped:"))
        .unwrap_or_else(|| panic!("no summary:\n{}", gw_lines.join("\n")));
    let connections: u64 = summary
        .split("stopped: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("connections figure");
    assert!(connections >= 2, "{summary}");
    collector.stop(false);
    relay_task.abort();

    // Every meter of the three gateways has stored readings.
    let store = Store::open(&db).expect("store");
    for id in ["P1", "P2", "R1", "R2", "S1", "S2"] {
        let n = readings::count(&store, &MeterId::new(id)).expect("count");
        assert!(n >= 1, "{id}: no readings");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_with_the_wrong_key_is_never_served() {
    let sim = Building::spawn(SimConfig {
        seed: Some(8),
        buses: vec![bus("pty")],
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let pty = sim.buses()[0]
        .link()
        .strip_prefix("serial:")
        .expect("pty")
        .to_string();
    let (dir, db) = temp_db();
    let key = dir.path().join("link.key");
    let wrong = dir.path().join("wrong.key");
    std::fs::write(&key, "00112233445566778899AABBCCDDEEFF").expect("key");
    std::fs::write(&wrong, "10112233445566778899AABBCCDDEEFF").expect("key");
    let port = free_port();
    build_site(
        &db,
        &[("GW3", format!("secure:127.0.0.1:{port}").as_str())],
        &[SiteMeter {
            id: "S1",
            gateway: "GW3",
            address: "1",
            protocol: Protocol::Modbus,
            profile: "acrel-ddsy1352-nk",
        }],
        "1",
    );
    let collector = collect_with_key(&db, &key, &["--tries", "1"]);
    let gateway = Daemon::start(&[
        "gateway",
        "--serial",
        &pty,
        "--connect",
        &format!("127.0.0.1:{port}"),
        "--key-file",
        wrong.to_str().expect("utf-8"),
        "--id",
        "GW3",
    ]);
    tokio::task::block_in_place(|| {
        collector.wait_for(0, "the refused hello", |l| {
            l.contains("secure gateway connection ended") && l.contains("MAC")
        });
        collector.wait_for(0, "a failed cycle", |l| {
            l.contains("bus cycle") && l.contains("gateway=GW3") && l.contains("failed=1")
        });
    });
    assert_eq!(
        collector.count(|l| l.contains("gateway=GW3") && l.contains("read=1")),
        0,
        "a meter was read through a gateway holding the wrong key"
    );
    gateway.stop(false);
    collector.stop(false);
}
