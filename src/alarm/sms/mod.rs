//! SMS to tenants: PDU encoding here; the GSM modem driver (AT commands over a serial port)
//! is added beside it by the control helper.

pub mod pdu;
