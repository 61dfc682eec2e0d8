//! Modbus RTU decoders on arbitrary bytes: never panic; anything accepted re-encodes to the
//! same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voltvend::protocol::rtu::{self, Request, Response};

fuzz_target!(|data: &[u8]| {
    let _ = rtu::request_frame_len(data);
    let _ = rtu::response_frame_len(data);
    if let Ok(req) = Request::decode(data) {
        assert_eq!(req.encode().as_deref(), Ok(data));
        let _ = req.decode_response(data);
    }
    if let Ok(resp) = Response::decode(data) {
        assert_eq!(resp.encode().as_deref(), Ok(data));
    }
});
