//! The double-entry ledger: accounts, postings, operations, idempotency.
