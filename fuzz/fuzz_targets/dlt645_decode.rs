//! DL/T 645 decoder, stream decoder and reply/request parsers on arbitrary bytes: never
//! panic; a decoded frame re-encodes to the bytes it was read from.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voltvend::protocol::dlt645::{self, StreamDecoder, di};

fuzz_target!(|data: &[u8]| {
    if let Ok((frame, used)) = dlt645::decode(data) {
        assert!(used <= data.len());
        let wire = dlt645::encode(&frame).expect("decoded frames re-encode");
        assert!(data[..used].ends_with(&wire));
        let _ = dlt645::parse_request(&frame);
        let _ = dlt645::parse_read_reply(&frame, &frame.address, di::STATUS_WORD_3);
        let _ = dlt645::parse_read_address_reply(&frame);
    }
    let mut d = StreamDecoder::new();
    for chunk in data.chunks(7) {
        d.push(chunk);
        for _ in 0..data.len() + 1 {
            if let Ok(None) = d.next_frame() {
                break;
            }
        }
    }
});
