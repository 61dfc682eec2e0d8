//! The ledger, its audit chain and the operator store: operations, invariants under random
//! sequences, crash consistency of the real binary, no double credit, audit verification,
//! operator logins, no floating point on money paths, and no import cycle between modules.

#[path = "../support/mod.rs"]
mod support;

mod audit_verify;
mod closing;
mod crash_consistency;
mod invariants;
mod module_graph;
mod no_double_credit;
mod no_floats;
mod one_writer;
mod operations;
mod operators_login;
