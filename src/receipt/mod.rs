//! ESC/POS receipts with a QR code that proves the receipt is genuine.
//!
//! A receipt is first a record (`ReceiptRecord`, stored in redb beside the sale it documents),
//! then bytes (`render`), then paper (`printer`). The sale never depends on the paper: a
//! failed print leaves the record with its print status, shown to the tenant and to staff,
//! and the receipt can be reprinted.

pub mod decode;
pub mod folder;
pub mod printer;
pub mod record;
pub mod render;
pub mod service;
pub mod sign;
pub mod sink;

pub use decode::{Decoded, decode};
pub use printer::{PrintError, PrinterTarget};
pub use record::{PrintStatus, ReceiptRecord};
pub use render::render;
pub use service::Receipts;
pub use sign::ReceiptSigner;
