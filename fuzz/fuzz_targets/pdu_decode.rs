//! SMS PDU decoder on arbitrary bytes (and as hex): never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voltvend::protocol::sms_pdu as pdu;

fuzz_target!(|data: &[u8]| {
    if let Ok(sms) = pdu::decode(data) {
        let _ = pdu::reassemble(std::slice::from_ref(&sms));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pdu::decode_hex(text);
    }
});
