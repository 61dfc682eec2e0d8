//! SMS to tenants: PDU encoding ([`pdu`]), the GSM modem driver ([`modem`]), the queue in
//! the store ([`queue`]) and the sender that drains it through the modem ([`sender`]).

pub mod modem;
pub mod pdu;
pub mod queue;
pub mod sender;
