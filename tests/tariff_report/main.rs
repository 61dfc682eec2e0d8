//! Tariffs (known answers, properties, a million intervals), reports and archival.

#[path = "../support/mod.rs"]
mod support;

mod archival;
mod known_answers;
mod million;
mod props;
mod reports;
