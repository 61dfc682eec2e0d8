//! SMS to tenants: PDU encoding (`crate::protocol::sms_pdu`), the GSM modem driver ([`modem`]), the queue in
//! the store ([`queue`]) and the sender that drains it through the modem ([`sender`]).

pub mod modem;
pub mod queue;
pub mod sender;
