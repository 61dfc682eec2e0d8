//! Pure codecs for meter protocols (no I/O): bytes in, frames or error values out.
//!
//! - [`rtu`]: Modbus RTU framing, CRC, wire-time arithmetic (the collector itself uses
//!   tokio-modbus; this is for the simulator and the bus-floor arithmetic).
//! - [`dlt645`]: DL/T 645-2007, written by hand.
//! - [`floor`]: the wire floor of a bus cycle, both protocols (collector log and bench).
//! - [`credit`]: 3DES credit tokens for prepaid meters.
//! - [`link`]: the secured gateway link framing.
//! - [`serial`]: serial line settings (baud, framing) and character times.
//! - [`bcd`]: packed BCD helpers.
//! - [`sms_pdu`]: SMS-SUBMIT / SMS-DELIVER PDUs (3GPP TS 23.040) for the GSM modem.

pub mod bcd;
pub mod credit;
pub mod dlt645;
pub mod floor;
pub mod link;
pub mod profile;
pub mod rtu;
pub mod serial;
pub mod sms_pdu;
