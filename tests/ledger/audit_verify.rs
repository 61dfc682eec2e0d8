//! The audit chain detects every kind of tampering done directly on the redb table, names
//! the first bad entry, and `voltvend audit verify` says so and exits non-zero.

use redb::ReadableDatabase;
use serde_json::json;
use std::path::Path;
use voltvend::auth::Actor;
use voltvend::auth::audit::{self, AUDIT, AUDIT_HEAD, AuditEntry, Fault};
use voltvend::store::Store;

use crate::support::bin::output as voltvend;

const ENTRIES: u64 = 30;

/// A store with `ENTRIES` audit entries, appended one transaction each.
fn chain(path: &Path) -> Store {
    let s = Store::open(path).unwrap();
    for i in 1..=ENTRIES {
        let txn = s.db().begin_write().unwrap();
        audit::append_in(
            &txn,
            &Actor::operator("alice", voltvend::auth::Role::Cashier),
            "ledger.sale",
            json!({ "tenant": format!("T{i:04}"), "amount": i * 100 }),
        )
        .unwrap();
        txn.commit().unwrap();
    }
    s
}

fn read(s: &Store, seq: u64) -> AuditEntry {
    let txn = s.db().begin_read().unwrap();
    let t = txn.open_table(AUDIT).unwrap();
    let v = t.get(seq).unwrap().unwrap();
    serde_json::from_slice(v.value()).unwrap()
}

fn write_raw(s: &Store, seq: u64, bytes: &[u8]) {
    let txn = s.db().begin_write().unwrap();
    txn.open_table(AUDIT).unwrap().insert(seq, bytes).unwrap();
    txn.commit().unwrap();
}

fn write(s: &Store, e: &AuditEntry) {
    write_raw(s, e.seq, &serde_json::to_vec(e).unwrap());
}

fn remove(s: &Store, seq: u64) {
    let txn = s.db().begin_write().unwrap();
    txn.open_table(AUDIT).unwrap().remove(seq).unwrap();
    txn.commit().unwrap();
}

fn report(s: &Store) -> String {
    audit::verify(s).unwrap().to_string()
}

#[test]
fn an_untouched_chain_is_intact() {
    let d = tempfile::tempdir().unwrap();
    let s = chain(&d.path().join("a.redb"));
    let r = audit::verify(&s).unwrap();
    assert!(r.is_intact());
    assert_eq!(r.entries, ENTRIES);
    assert_eq!(r.to_string(), "audit log intact: 30 entries");
    // An empty store is intact too.
    let empty = Store::open(&d.path().join("b.redb")).unwrap();
    assert_eq!(report(&empty), "audit log intact: 0 entries");
}

#[test]
fn an_edited_entry_is_a_hash_mismatch_at_its_seq() {
    let d = tempfile::tempdir().unwrap();
    let s = chain(&d.path().join("a.redb"));
    let mut e = read(&s, 17);
    e.detail = json!({ "tenant": "T0017", "amount": 1 });
    write(&s, &e);
    assert_eq!(report(&s), "audit entry 17 tampered (hash mismatch)");
    // Editing a later entry too still reports the first.
    let mut e = read(&s, 25);
    e.action = "ledger.refund".into();
    write(&s, &e);
    assert_eq!(
        audit::verify(&s).unwrap().first_problem,
        Some((17, Fault::HashMismatch))
    );
}

#[test]
fn an_entry_rewritten_with_a_fresh_hash_is_caught_by_the_next_link() {
    let d = tempfile::tempdir().unwrap();
    let s = chain(&d.path().join("a.redb"));
    let mut e = read(&s, 9);
    e.actor = Actor::system("nobody");
    e.hash = e.expected_hash();
    write(&s, &e);
    assert_eq!(
        report(&s),
        "audit entry 9 tampered (rewritten: entry 10 links to a different hash)"
    );
}

#[test]
fn the_last_entry_rewritten_is_caught_by_the_chain_head() {
    let d = tempfile::tempdir().unwrap();
    let s = chain(&d.path().join("a.redb"));
    let mut e = read(&s, ENTRIES);
    e.detail = json!({ "amount": 0 });
    e.hash = e.expected_hash();
    write(&s, &e);
    assert_eq!(
        report(&s),
        "audit entry 30 tampered (the recorded chain head does not match the last entry)"
    );
}

#[test]
fn a_removed_entry_is_missing() {
    let d = tempfile::tempdir().unwrap();
    let s = chain(&d.path().join("a.redb"));
    remove(&s, 17);
    assert_eq!(report(&s), "audit entry 17 missing");
    assert_eq!(audit::verify(&s).unwrap().entries, ENTRIES - 1);
}

#[test]
fn entries_cut_off_the_end_are_missing() {
    let d = tempfile::tempdir().unwrap();
    let s = chain(&d.path().join("a.redb"));
    remove(&s, 30);
    remove(&s, 29);
    assert_eq!(report(&s), "audit entry 29 missing");
    // Even the whole table gone.
    let txn = s.db().begin_write().unwrap();
    txn.delete_table(AUDIT).unwrap();
    txn.commit().unwrap();
    assert_eq!(report(&s), "audit entry 1 missing");
}

#[test]
fn a_removed_chain_head_is_reported() {
    let d = tempfile::tempdir().unwrap();
    let s = chain(&d.path().join("a.redb"));
    let txn = s.db().begin_write().unwrap();
    txn.delete_table(AUDIT_HEAD).unwrap();
    txn.commit().unwrap();
    assert_eq!(
        report(&s),
        "audit entry 30 tampered (the recorded chain head does not match the last entry)"
    );
}

#[test]
fn a_renumbered_or_garbled_entry_is_tampered() {
    let d = tempfile::tempdir().unwrap();
    let s = chain(&d.path().join("a.redb"));
    let mut e = read(&s, 5);
    e.seq = 6;
    write_raw(&s, 5, &serde_json::to_vec(&e).unwrap());
    assert_eq!(report(&s), "audit entry 5 tampered (records seq 6)");

    let s2 = chain(&d.path().join("b.redb"));
    write_raw(&s2, 3, b"{ not json");
    assert!(
        report(&s2).starts_with("audit entry 3 tampered (unreadable: "),
        "{}",
        report(&s2)
    );
}

#[test]
fn the_first_entry_must_link_to_genesis() {
    let d = tempfile::tempdir().unwrap();
    let s = chain(&d.path().join("a.redb"));
    let mut e = read(&s, 1);
    e.prev = "ab".repeat(32);
    e.hash = e.expected_hash();
    write(&s, &e);
    // Entry 1 now links to a made-up predecessor (its own hash is consistent, so entry 2's
    // link breaks as well; entry 1 is reported first).
    assert_eq!(
        report(&s),
        "audit entry 1 tampered (prev link does not match the entry before)"
    );
}

#[test]
fn the_cli_prints_the_verdict_and_exits_non_zero_on_tampering() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("a.redb");
    let p = path.to_str().unwrap();
    drop(chain(&path));
    let out = voltvend(&["audit", "verify", "--store", p]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "audit log intact: 30 entries\n"
    );

    let list = voltvend(&["audit", "list", "--store", p, "-n", "3"]);
    assert!(list.status.success());
    let text = String::from_utf8_lossy(&list.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].trim_start().starts_with("28 "), "{text}");
    assert!(lines[2].contains("op:alice") && lines[2].contains("ledger.sale"));
    assert!(lines[2].contains(r#""tenant":"T0030""#), "{text}");

    {
        let s = Store::open(&path).unwrap();
        let mut e = read(&s, 17);
        e.detail = json!({ "amount": 0 });
        write(&s, &e);
    }
    let out = voltvend(&["audit", "verify", "--store", p]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "audit entry 17 tampered (hash mismatch)\n"
    );

    {
        let s = Store::open(&path).unwrap();
        remove(&s, 12);
    }
    let out = voltvend(&["audit", "verify", "--store", p]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "audit entry 12 missing\n"
    );

    // A mistyped store path is an error, not a new empty store.
    let missing = d.path().join("nope.redb");
    let out = voltvend(&["audit", "verify", "--store", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no voltvend store at"));
    assert!(!missing.exists());
}
