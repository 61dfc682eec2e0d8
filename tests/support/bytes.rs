//! Byte helpers written out here, so a test does not trust the code under test for them.

/// Bytes of a hex string; spaces are ignored ("01 03 00 00").
pub fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("hex test vector")
}

/// CRC-16/MODBUS of `data`, low byte first as on the wire.
pub fn crc16(data: &[u8]) -> [u8; 2] {
    let mut c: u16 = 0xFFFF;
    for b in data {
        c ^= u16::from(*b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xA001
            } else {
                c >> 1
            };
        }
    }
    c.to_le_bytes()
}
