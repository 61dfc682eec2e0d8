//! The audit log: one entry per change, hash-chained so that an edited or removed entry
//! is detected (`voltvend audit verify`). Entries are appended inside the same write
//! transaction as the change they record, so a change never exists without its entry.

use crate::auth::Actor;
use crate::store::{StoreError, decode, encode};
use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// seq → JSON `AuditEntry`.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

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
    Ok(seq)
}
