//! The real `voltvend sim` binary: prints its seed and endpoints, serves a tokio-modbus client
//! on the printed pty, takes run-time faults from the watched faults file, replays the same
//! values from the same seed, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;
use tokio_modbus::prelude::*;

use crate::support::bin::{KillOnDrop, voltvend};

struct Sim {
    child: KillOnDrop,
    lines: Vec<String>,
}

fn start(args: &[&str]) -> Sim {
    let mut child = voltvend()
        .arg("sim")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn voltvend sim");
    let out = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(out);
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.starts_with("bus ")) {
        let mut l = String::new();
        if reader.read_line(&mut l).expect("read") == 0 {
            panic!("voltvend sim exited early: {lines:?}");
        }
        lines.push(l.trim().to_string());
    }
    Sim {
        child: KillOnDrop(child),
        lines,
    }
}

fn pty_path(sim: &Sim) -> String {
    let bus = sim
        .lines
        .iter()
        .find(|l| l.starts_with("bus 0"))
        .expect("bus line");
    bus.split_whitespace()
        .skip_while(|w| *w != "pty")
        .nth(1)
        .expect("pty path")
        .to_string()
}

async fn read_energy(path: &str, unit: u8, timeout_ms: u64) -> Option<Vec<u16>> {
    let port = tokio_serial::SerialStream::open(&tokio_serial::new(path, 115_200)).ok()?;
    let mut ctx = tokio_modbus::client::rtu::attach_slave(port, Slave(unit));
    let r = tokio::time::timeout(
        Duration::from_millis(timeout_ms),
        ctx.read_holding_registers(0x0002, 8),
    )
    .await
    .ok()?;
    r.ok()?.ok()
}

#[tokio::test]
async fn sim_binary_serves_a_pty_and_obeys_the_faults_file() {
    let dir = tempfile::tempdir().expect("dir");
    let faults = dir.path().join("faults.toml");
    let faults_arg = faults.to_string_lossy().to_string();
    let sim = start(&[
        "--meters",
        "3",
        "--baud",
        "0",
        "--seed",
        "1234",
        "--accel",
        "0",
        "--faults",
        &faults_arg,
    ]);
    assert_eq!(sim.lines.first().map(String::as_str), Some("seed: 1234"));
    let bus = sim
        .lines
        .iter()
        .find(|l| l.starts_with("bus 0"))
        .expect("bus");
    assert!(
        bus.contains("meters=1,2,3") && bus.contains("link=serial:"),
        "{bus}"
    );
    let path = pty_path(&sim);
    let first = read_energy(&path, 2, 1000).await.expect("meter 2 answers");

    // The same seed gives the same meters (seeded initial energy per band).
    let again = start(&[
        "--meters", "3", "--baud", "0", "--seed", "1234", "--accel", "0",
    ]);
    let second = read_energy(&pty_path(&again), 2, 1000)
        .await
        .expect("meter 2 answers");
    assert_eq!(first, second, "same seed, same registers");
    let other = start(&[
        "--meters", "3", "--baud", "0", "--seed", "99", "--accel", "0",
    ]);
    let third = read_energy(&pty_path(&other), 2, 1000)
        .await
        .expect("meter 2 answers");
    assert_ne!(first, third, "another seed, other meters");

    // Run-time fault through the watched file.
    std::fs::write(
        &faults,
        "[[meter]]\naddress = \"2\"\nfaults = \"no_reply\"\n",
    )
    .expect("write");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        read_energy(&path, 2, 300).await.is_none(),
        "meter 2 silenced"
    );
    assert!(
        read_energy(&path, 1, 1000).await.is_some(),
        "meter 1 still answers"
    );
    std::fs::write(&faults, "").expect("clear");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(read_energy(&path, 2, 1000).await.is_some(), "meter 2 back");

    // SIGTERM stops it cleanly.
    let mut sim = sim;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sim.child.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal");
    let status = sim.child.0.wait().expect("wait");
    assert!(status.success(), "{status:?}");
}
