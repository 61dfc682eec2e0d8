//! Operators, roles and permissions, and the hash-chained audit log.

pub mod audit;
pub mod operators;
pub mod roles;

pub use roles::{Actor, Permission, Role};
