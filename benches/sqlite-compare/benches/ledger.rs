//! Durable sales per second: the voltvend ledger (redb, group commit) against SQLite (WAL,
//! `synchronous=FULL`, the same double-entry schema, one transaction per sale), with 1
//! writer and with 16 concurrent writers, in the same run on the same disk.
//!
//! `cargo bench --bench ledger` in benches/sqlite-compare/ (VOLTVEND_BENCH_SECS sets the
//! seconds per measurement, default 3). Both sides do the same work per sale: idempotency-key
//! lookup, balance read and cap check, two balance updates, the operation record (JSON), two
//! postings, the tenant-history index and a hash-chained audit entry; both acknowledge a
//! sale only after a durable (fsynced) commit. The voltvend side is the root crate's
//! benches/support/ledger_run.rs, the same code as `cargo bench --bench ledger` there.
//!
//! For SQLite with 16 writers we measure two ways and compare against the FASTER one:
//! 16 connections with a busy timeout (SQLite's usual multi-writer setup, whose busy
//! handler sleeps), and one connection shared behind a mutex (no busy sleeps; one
//! transaction per sale still).

#[path = "../../support/ledger_run.rs"]
mod ledger_run;

use ledger_run::{TENANTS, measure, start, voltvend_reported};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts(name TEXT PRIMARY KEY, balance INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS operations(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL, tenant TEXT, detail TEXT NOT NULL, receipt TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS postings(op INTEGER NOT NULL, idx INTEGER NOT NULL,
    account TEXT NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY(op, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tenant_ops(tenant TEXT NOT NULL, op INTEGER NOT NULL,
    PRIMARY KEY(tenant, op)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, detail TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);
";

fn sqlite_conn(path: &Path) -> Connection {
    let c = Connection::open(path).expect("sqlite open");
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.pragma_update(None, "synchronous", "FULL").expect("full");
    c.busy_timeout(Duration::from_secs(30)).expect("busy");
    c
}

/// One sale in one durable SQLite transaction, doing what the voltvend sale does.
fn sqlite_sale(c: &mut Connection, tenant: &str, key: &str, amount: i64) {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("begin");
    let seen: Option<String> = tx
        .query_row(
            "SELECT receipt FROM operations WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()
        .expect("key");
    if seen.is_some() {
        return;
    }
    let account = format!("tenant:{tenant}");
    let balance: i64 = tx
        .query_row(
            "SELECT balance FROM accounts WHERE name = ?1",
            [&account],
            |r| r.get(0),
        )
        .optional()
        .expect("balance")
        .unwrap_or(0);
    assert!(balance + amount < i64::MAX / 2, "cap");
    let upsert = "INSERT INTO accounts(name, balance) VALUES(?1, ?2)
                  ON CONFLICT(name) DO UPDATE SET balance = balance + excluded.balance";
    tx.execute(upsert, params![account, amount])
        .expect("tenant");
    tx.execute(upsert, params!["pay:cash", -amount])
        .expect("pay");
    let at = jiff::Timestamp::now().to_string();
    let detail =
        serde_json::json!({"sale": {"amount": amount, "method": "cash", "receipt_no": key}});
    tx.execute(
        "INSERT INTO operations(key, kind, tenant, detail, receipt, at) VALUES(?1, 'sale', ?2, ?3, '', ?4)",
        params![key, tenant, detail.to_string(), at],
    )
    .expect("op");
    let op = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO postings(op, idx, account, amount) VALUES(?1, 0, ?2, ?3), (?1, 1, 'pay:cash', ?4)",
        params![op, account, amount, -amount],
    )
    .expect("postings");
    tx.execute(
        "INSERT INTO tenant_ops(tenant, op) VALUES(?1, ?2)",
        params![tenant, op],
    )
    .expect("index");
    let receipt = serde_json::json!({"op": op, "balance": balance + amount, "at": at});
    tx.execute(
        "UPDATE operations SET receipt = ?1 WHERE id = ?2",
        params![receipt.to_string(), op],
    )
    .expect("receipt");
    let prev: String = tx
        .query_row(
            "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .expect("audit last")
        .unwrap_or_else(|| "0".repeat(64));
    let mut h = Sha256::new();
    h.update(op.to_be_bytes());
    h.update(at.as_bytes());
    h.update(detail.to_string().as_bytes());
    h.update(prev.as_bytes());
    tx.execute(
        "INSERT INTO audit(at, actor, action, detail, prev, hash) VALUES(?1, 'op:bench', 'ledger.sale', ?2, ?3, ?4)",
        params![at, detail.to_string(), prev, hex::encode(h.finalize())],
    )
    .expect("audit");
    tx.commit().expect("commit");
}

fn sqlite_check(path: &Path) {
    let c = sqlite_conn(path);
    let total: i64 = c
        .query_row("SELECT COALESCE(SUM(balance), 0) FROM accounts", [], |r| {
            r.get(0)
        })
        .expect("sum");
    assert_eq!(total, 0, "sqlite balances do not sum to zero");
}

fn sqlite_setup(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.sqlite"));
    sqlite_conn(&path).execute_batch(SCHEMA).expect("schema");
    path
}

/// Writer `w`'s `n`-th sale: 1 yuan to one of the tenants, as the voltvend run sells.
fn writer_sale(c: &mut Connection, w: usize, n: u64) {
    sqlite_sale(c, &format!("T{}", w % TENANTS), &format!("w{w}-{n}"), 100);
}

/// Each writer its own connection (SQLite's usual multi-writer setup).
fn sqlite_run_connections(dir: &Path, writers: usize) -> u64 {
    let path = sqlite_setup(dir, &format!("conns-{writers}"));
    let conns: Arc<Vec<Mutex<Connection>>> = Arc::new(
        (0..writers)
            .map(|_| Mutex::new(sqlite_conn(&path)))
            .collect(),
    );
    let rate = measure(writers, move |w, n| {
        // Each writer only ever locks its own connection.
        writer_sale(&mut conns[w].lock().expect("conn"), w, n);
    });
    sqlite_check(&path);
    rate
}

/// All writers share one connection behind a mutex (no busy-handler sleeps).
fn sqlite_run_shared(dir: &Path, writers: usize) -> u64 {
    let path = sqlite_setup(dir, &format!("shared-{writers}"));
    let conn = Arc::new(Mutex::new(sqlite_conn(&path)));
    let rate = measure(writers, move |w, n| {
        writer_sale(&mut conn.lock().expect("conn"), w, n);
    });
    sqlite_check(&path);
    rate
}

/// `a / b` with two decimals, in integers.
fn ratio(a: u64, b: u64) -> String {
    format!("{}.{:02}", a / b.max(1), (a * 100 / b.max(1)) % 100)
}

fn main() {
    let Some(dir) = start(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let v1 = voltvend_reported(dir.path(), 1);
    let s1 = sqlite_run_shared(dir.path(), 1);
    println!("sqlite    1 writer : {s1:>8} sales/s");
    let v16 = voltvend_reported(dir.path(), 16);
    let s16c = sqlite_run_connections(dir.path(), 16);
    println!("sqlite   16 writers: {s16c:>8} sales/s (16 connections, busy timeout)");
    let s16s = sqlite_run_shared(dir.path(), 16);
    println!("sqlite   16 writers: {s16s:>8} sales/s (1 shared connection)");
    let s16 = s16c.max(s16s);
    println!("ratio 1 writer: {}", ratio(v1, s1));
    println!(
        "ledger sales/s: voltvend={v16} sqlite={s16} ratio={} (16 writers)",
        ratio(v16, s16)
    );
}
