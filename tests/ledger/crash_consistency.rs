//! Crash consistency of the real binary: `voltvend ledger torture` sells in a loop from
//! several threads (so commits are grouped) and prints `ack <key> <op>` after each durable
//! commit. We SIGKILL it at random moments, at least 20 times (some while it is still
//! recovering from the previous kill), restart it a little before the last acknowledged key
//! so that already-committed sales are retried, and finally check that every acknowledged
//! sale is present exactly once, with its amount and first operation number, and that the
//! ledger balances. The seed is printed; `VOLTVEND_CRASH_SEED=N` replays a run.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use voltvend::ledger::{Ledger, OpDetail, OpFilter, OpKind};
use voltvend::store::Store;
use voltvend::units::Fen;

use crate::support::bin::voltvend;

const KILLS: usize = 24;

fn amount(i: u64) -> Fen {
    // Must match `torture_amount` in src/cli/ledger.rs.
    Fen(100 + (i % 97) as i64)
}

fn parse_ack(line: &str) -> Option<(u64, u64)> {
    let mut parts = line.split(' ');
    let (ack, key, op) = (parts.next()?, parts.next()?, parts.next()?);
    if ack != "ack" || parts.next().is_some() {
        return None;
    }
    Some((
        key.strip_prefix("torture-")?.parse().ok()?,
        op.parse().ok()?,
    ))
}

#[test]
fn every_acknowledged_sale_survives_sigkill_exactly_once() {
    let seed: u64 = std::env::var("VOLTVEND_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("crash test seed {seed} (replay with VOLTVEND_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");

    // key index → the operation number its first acknowledgement gave.
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut next_start = 0u64;
    let mut killed_before_any_ack = 0;
    for round in 0..KILLS {
        let mut child = voltvend()
            .args(["ledger", "--store"])
            .arg(&path)
            .args(["torture", "--writers", "4", "--start"])
            .arg(next_start.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        // One kill in five lands early, possibly during open/recovery; the others after
        // sales have started flowing.
        let early = rng.random_bool(0.2);
        let mut seen = Vec::new();
        if early {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..40)));
        } else {
            let deadline = Instant::now() + Duration::from_secs(20);
            match lines.recv_timeout(deadline - Instant::now()) {
                Ok(first) => seen.push(first),
                Err(_) => panic!("round {round}: torture produced no ack within 20 s"),
            }
            std::thread::sleep(Duration::from_millis(rng.random_range(0..120)));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        seen.extend(lines.try_iter());
        if seen.is_empty() {
            killed_before_any_ack += 1;
        }
        for line in &seen {
            // A line cut by the kill is not an acknowledgement.
            let Some((i, op)) = parse_ack(line) else {
                continue;
            };
            if let Some(first) = acked.insert(i, op) {
                assert_eq!(
                    first, op,
                    "seed {seed}: torture-{i} acknowledged as operation {first} and later as {op}"
                );
            }
        }
        // Restart a little before the highest acknowledged key: those retries must be
        // answered with their first operation, not sold again.
        let top = acked.keys().next_back().map_or(0, |k| k + 1);
        next_start = top.saturating_sub(rng.random_range(0..6));
    }
    assert!(
        acked.len() >= 50,
        "seed {seed}: only {} sales acknowledged",
        acked.len()
    );
    println!(
        "{} sales acknowledged over {KILLS} kills ({killed_before_any_ack} before any ack)",
        acked.len()
    );

    // The store as the next start of the appliance would find it.
    let store = Store::open(&path).unwrap();
    let ledger = Ledger::open(store).unwrap();
    let report = ledger.verify().unwrap();
    assert!(report.is_ok(), "seed {seed}: {:?}", report.problems);
    // One intact audit entry per operation: none lost or half-written by a kill.
    let audit = voltvend::auth::audit::verify(ledger.store()).unwrap();
    assert!(
        audit.is_intact(),
        "seed {seed}: audit {:?}",
        audit.first_problem
    );
    assert_eq!(audit.entries, report.operations, "seed {seed}");
    let sales = ledger
        .operations(&OpFilter {
            kind: Some(OpKind::Sale),
            ..OpFilter::default()
        })
        .unwrap();
    let mut by_key: HashMap<&str, u64> = HashMap::new();
    let mut total = Fen(0);
    for op in &sales {
        if let Some(other) = by_key.insert(op.key.as_str(), op.id) {
            panic!(
                "seed {seed}: key {} sold twice (ops {other} and {})",
                op.key, op.id
            );
        }
        let i: u64 = op.key.strip_prefix("torture-").unwrap().parse().unwrap();
        match &op.detail {
            OpDetail::Sale { amount: a, .. } => assert_eq!(*a, amount(i)),
            other => panic!("unexpected {other:?}"),
        }
        total += amount(i);
    }
    for (i, op) in &acked {
        let key = format!("torture-{i}");
        assert_eq!(
            by_key.get(key.as_str()),
            Some(op),
            "seed {seed}: acknowledged {key} (operation {op}) is missing or moved"
        );
    }
    let balance = ledger.account(&"TORTURE".into()).unwrap().unwrap().balance;
    assert_eq!(
        balance, total,
        "seed {seed}: balance is not the sum of the sales"
    );
    drop(ledger);

    // The binary's own check agrees.
    let out = voltvend()
        .args(["ledger", "--store"])
        .arg(&path)
        .arg("verify")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("ledger OK"), "{text}");
}
