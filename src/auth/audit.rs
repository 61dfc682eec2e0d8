//! The audit log: one entry per change, hash-chained so that an edited or removed entry
//! is detected (`voltvend audit verify`). Entries are appended inside the same write
//! transaction as the change they record, so a change never exists without its entry.

use crate::auth::Actor;
use crate::store::{Store, StoreError, decode, encode};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// seq → JSON `AuditEntry`.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

/// `"head"` → JSON [`Head`]: the last entry's seq and hash, written with every append, so
/// that entries cut off the end of the log are reported missing too.
pub const AUDIT_HEAD: TableDefinition<&str, &[u8]> = TableDefinition::new("audit_head");

const HEAD_KEY: &str = "head";

/// The chain's last link as of the last append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    /// UTC time, RFC 3339.
    pub at: String,
    pub actor: Actor,
    /// What was done, e.g. `sale`, `operator.add`, `import.meters`.
    pub action: String,
    /// Details as JSON (ids, amounts, results).
    pub detail: serde_json::Value,
    /// Hex SHA-256 of the previous entry's `hash` (64 zeros for the first).
    pub prev: String,
    /// Hex SHA-256 over `seq`, `at`, `actor`, `action`, `detail` and `prev`.
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry should carry, computed from its other fields.
    pub fn expected_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.seq.to_be_bytes());
        h.update(self.at.as_bytes());
        h.update([0]);
        h.update(encode(&self.actor));
        h.update([0]);
        h.update(self.action.as_bytes());
        h.update([0]);
        h.update(encode(&self.detail));
        h.update([0]);
        h.update(self.prev.as_bytes());
        hex::encode(h.finalize())
    }
}

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends an entry inside `txn`; returns its sequence number.
pub fn append_in(
    txn: &WriteTransaction,
    actor: &Actor,
    action: &str,
    detail: serde_json::Value,
) -> Result<u64, StoreError> {
    let mut table = txn.open_table(AUDIT)?;
    let (seq, prev) = match table.last()? {
        Some((k, v)) => {
            let last: AuditEntry = decode("audit", v.value())?;
            (k.value() + 1, last.hash)
        }
        None => (1, GENESIS.to_string()),
    };
    let mut entry = AuditEntry {
        seq,
        at: jiff::Timestamp::now().to_string(),
        actor: actor.clone(),
        action: action.to_string(),
        detail,
        prev,
        hash: String::new(),
    };
    entry.hash = entry.expected_hash();
    table.insert(seq, encode(&entry).as_slice())?;
    let head = Head {
        seq,
        hash: entry.hash,
    };
    txn.open_table(AUDIT_HEAD)?
        .insert(HEAD_KEY, encode(&head).as_slice())?;
    Ok(seq)
}

/// What is wrong with the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The entry's fields do not hash to its `hash`: it was edited.
    HashMismatch,
    /// The entry is self-consistent but the next entry links to a different hash: it was
    /// rewritten with a recomputed hash.
    Rewritten { next: u64 },
    /// The entry's `prev` is not the previous entry's hash.
    BrokenLink,
    /// The record's own `seq` differs from its key.
    WrongSeq { recorded: u64 },
    /// The record cannot be read at all.
    Unreadable(String),
    /// There is no entry with this seq (a gap, or cut off the end).
    Missing,
    /// The recorded chain head disagrees with this, the last entry (the head names a
    /// different hash, an earlier seq, or is gone).
    HeadMismatch,
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries present in the table.
    pub entries: u64,
    /// The first bad entry, if any.
    pub first_problem: Option<(u64, Fault)>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.first_problem.is_none()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.first_problem {
            None => write!(f, "audit log intact: {} entries", self.entries),
            Some((seq, Fault::Missing)) => write!(f, "audit entry {seq} missing"),
            Some((seq, fault)) => {
                let why = match fault {
                    Fault::HashMismatch => "hash mismatch".to_string(),
                    Fault::Rewritten { next } => {
                        format!("rewritten: entry {next} links to a different hash")
                    }
                    Fault::BrokenLink => "prev link does not match the entry before".to_string(),
                    Fault::WrongSeq { recorded } => format!("records seq {recorded}"),
                    Fault::Unreadable(why) => format!("unreadable: {why}"),
                    Fault::Missing => "missing".to_string(),
                    Fault::HeadMismatch => {
                        "the recorded chain head does not match the last entry".to_string()
                    }
                };
                write!(f, "audit entry {seq} tampered ({why})")
            }
        }
    }
}

/// Recomputes every hash and link and reports the first tampered or missing entry.
pub fn verify(store: &Store) -> Result<VerifyReport, StoreError> {
    let txn = store.db().begin_read()?;
    let head: Option<Head> = match txn.open_table(AUDIT_HEAD) {
        Ok(t) => match t.get(HEAD_KEY)? {
            Some(v) => Some(decode("audit_head", v.value())?),
            None => None,
        },
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let table = match txn.open_table(AUDIT) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            let first_problem = head.filter(|h| h.seq > 0).map(|_| (1, Fault::Missing));
            return Ok(VerifyReport {
                entries: 0,
                first_problem,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let mut entries = 0;
    let mut first_problem = None;
    let mut expected_seq = 1u64;
    let mut prev_hash = GENESIS.to_string();
    for row in table.iter()? {
        let (k, v) = row?;
        let seq = k.value();
        entries += 1;
        if first_problem.is_some() {
            continue;
        }
        if seq != expected_seq {
            first_problem = Some((expected_seq, Fault::Missing));
            continue;
        }
        let entry: AuditEntry = match serde_json::from_slice(v.value()) {
            Ok(e) => e,
            Err(e) => {
                first_problem = Some((seq, Fault::Unreadable(e.to_string())));
                continue;
            }
        };
        if entry.seq != seq {
            first_problem = Some((
                seq,
                Fault::WrongSeq {
                    recorded: entry.seq,
                },
            ));
        } else if entry.hash != entry.expected_hash() {
            first_problem = Some((seq, Fault::HashMismatch));
        } else if entry.prev != prev_hash {
            // The previous entry hashed correctly, so either it was rewritten with a new
            // hash (the usual edit) or this link was; blame the earlier one.
            first_problem = Some(if seq > 1 {
                (seq - 1, Fault::Rewritten { next: seq })
            } else {
                (seq, Fault::BrokenLink)
            });
        }
        prev_hash = entry.hash;
        expected_seq = seq + 1;
    }
    let last = expected_seq - 1;
    if first_problem.is_none() {
        first_problem = match head {
            Some(head) if head.seq > last => Some((last + 1, Fault::Missing)),
            Some(head) if head.seq == last && head.hash == prev_hash => None,
            None if last == 0 => None,
            _ => Some((last, Fault::HeadMismatch)),
        };
    }
    Ok(VerifyReport {
        entries,
        first_problem,
    })
}

/// The most recent `limit` entries, oldest first.
pub fn recent(store: &Store, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    let txn = store.db().begin_read()?;
    let table = match txn.open_table(AUDIT) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in table.iter()?.rev().take(limit) {
        let (_, v) = row?;
        out.push(decode("audit", v.value())?);
    }
    out.reverse();
    Ok(out)
}
