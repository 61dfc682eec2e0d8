//! The protocol codecs (Modbus RTU, DL/T 645-2007, prepaid credit tokens, the secure
//! gateway link, SMS PDUs) against published test vectors, round trips and garbage.

#[path = "../support/mod.rs"]
mod support;

mod credit;
mod dlt645;
mod link;
mod rtu;
mod sms_pdu;
