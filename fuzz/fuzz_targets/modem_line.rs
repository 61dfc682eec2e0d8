//! The GSM modem's line parser takes any bytes the serial port delivers without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voltvend::alarm::sms::modem::parse_line;

fuzz_target!(|data: &[u8]| {
    let _ = parse_line(&String::from_utf8_lossy(data));
});
