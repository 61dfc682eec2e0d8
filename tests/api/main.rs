//! The HTTP API on a real daemon: operator, tenant, console, alarm and report endpoints,
//! and receipt printing.

#[path = "../support/mod.rs"]
mod support;

mod alarms;
mod console;
mod office_lists;
mod operator;
mod receipt_printer;
mod refunds;
mod reports;
mod sale_meter;
mod tenant;
mod zero_balance;
