//! `voltvend ledger` as staff use it: open, sell, retry with the same key, refuse, reverse,
//! read back and verify, through the real binary.

use std::process::Output;

use crate::support::bin::{output_with, voltvend};

/// `voltvend ledger --store STORE --as amy ARGS`.
fn run(store: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = voltvend();
    cmd.arg("ledger")
        .arg("--store")
        .arg(store)
        .args(["--as", "amy"])
        .args(args);
    output_with(cmd, None)
}

fn ok(store: &std::path::Path, args: &[&str]) -> String {
    let out = run(store, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn staff_can_sell_retry_refuse_reverse_and_verify_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("v.redb");
    let opened = ok(
        &store,
        &[
            "open",
            "T1",
            "--meter",
            "M1",
            "--meter",
            "M2:meter",
            "--transfer",
            "12.50",
            "--old-serial",
            "OLD-7",
            "--key",
            "open-T1",
        ],
    );
    assert_eq!(
        opened.trim(),
        "operation 1: open_account for T1, +¥12.50, balance ¥12.50 (key open-T1)"
    );
    let sale = [
        "sale",
        "T1",
        "1000",
        "--method",
        "wechat",
        "--receipt",
        "WX1",
        "--key",
        "k1",
    ];
    let first = ok(&store, &sale);
    assert!(
        first.starts_with("operation 2: sale for T1, +¥1,000.00, balance ¥1,012.50 (key k1)"),
        "{first}"
    );
    // The same command again is answered with the same operation, not sold twice.
    assert_eq!(ok(&store, &sale), first);

    let refused = run(&store, &["refund", "T1", "2000", "--reason", "moving out"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("refund of ¥2,000.00 refused: the balance of tenant T1 is only ¥1,012.50"),
        "{err}"
    );
    let bad = run(&store, &["sale", "T1", "12.345"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("'12.345' has more than 2 decimal places")
    );

    let reversed = ok(&store, &["reverse", "2", "--reason", "card declined"]);
    assert!(
        reversed.contains("operation 3: reverse for T1, -¥1,000.00, balance ¥12.50"),
        "{reversed}"
    );
    let balance = ok(&store, &["balance", "T1"]);
    assert!(
        balance.starts_with("T1: balance ¥12.50 (open)"),
        "{balance}"
    );
    assert!(
        balance.contains("meter M2 (meter mode), purchases 0"),
        "{balance}"
    );
    let history = ok(&store, &["history", "T1"]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 3, "{history}");
    assert!(lines[0].contains("undoes 2: card declined") && lines[0].contains("[op:amy@cli]"));
    assert!(lines[1].contains("wechat #WX1"));
    assert!(lines[2].contains("from old meter OLD-7"));
    let verify = ok(&store, &["verify"]);
    assert!(verify.ends_with("ledger OK\n"), "{verify}");

    let backup = dir.path().join("backup.redb");
    ok(&store, &["backup", backup.to_str().unwrap()]);
    let copy = ok(&backup, &["balance", "T1"]);
    assert_eq!(copy, balance);
}
