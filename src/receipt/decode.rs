//! A small ESC/POS reader: turns printer bytes back into the text a person would read off
//! the paper plus the QR payloads. Used by the printer sink's text preview and by tests, so
//! that what we assert is what the printer would print. Commands follow the Epson "ESC/POS
//! Application Programming Guide" (command reference): ESC @, ESC E n, ESC a n, ESC d n,
//! ESC ! n, ESC - n, ESC t n, ESC 2, ESC 3 n, ESC J n, GS ! n, GS V m [n], GS ( k pL pH …,
//! FS & / FS ., DLE EOT n. Pure: garbage gives an error value, never a panic.

const LF: u8 = 0x0a;
const CR: u8 = 0x0d;
const ESC: u8 = 0x1b;
const GS: u8 = 0x1d;
const FS: u8 = 0x1c;
const DLE: u8 = 0x10;

/// What the paper shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Printed lines, GBK decoded, trailing blanks trimmed.
    pub lines: Vec<String>,
    /// Data stored into the QR symbol (GS ( k fn 80) and printed (fn 81).
    pub qr: Vec<String>,
    /// Number of paper cuts (GS V).
    pub cuts: u32,
}

impl Decoded {
    /// The preview text: lines, `[QR] payload` where a QR code was printed, `--- cut ---`.
    pub fn preview(&self) -> String {
        let mut s = self.lines.join("\n");
        s.push('\n');
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("ESC/POS command at byte {at} is cut short")]
    Truncated { at: usize },
    #[error("unknown ESC/POS command {cmd} at byte {at}")]
    Unknown { at: usize, cmd: String },
}

/// Decodes `bytes` as a receipt.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let mut out = Decoded::default();
    let mut line: Vec<u8> = Vec::new();
    let mut pending_qr: Option<String> = None;
    let mut i = 0usize;
    let arg = |i: usize, n: usize| -> Result<&[u8], DecodeError> {
        bytes.get(i..i + n).ok_or(DecodeError::Truncated { at: i })
    };
    let flush = |line: &mut Vec<u8>, out: &mut Decoded| {
        let (text, _, _) = encoding_rs::GBK.decode(line);
        out.lines.push(text.trim_end().to_string());
        line.clear();
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            LF => {
                flush(&mut line, &mut out);
                i += 1;
            }
            CR => i += 1,
            ESC => {
                let cmd = *arg(i + 1, 1)?.first().unwrap_or(&0);
                i += 2;
                match cmd {
                    b'@' | b'2' => {}
                    b'E' | b'a' | b'!' | b'-' | b't' | b'3' | b'J' | b'M' | b'G' | b'R' => {
                        arg(i, 1)?;
                        i += 1;
                    }
                    b'd' => {
                        let n = arg(i, 1)?[0];
                        i += 1;
                        for _ in 0..n.max(1) {
                            flush(&mut line, &mut out);
                        }
                    }
                    other => {
                        return Err(DecodeError::Unknown {
                            at: i - 2,
                            cmd: format!("ESC 0x{other:02x}"),
                        });
                    }
                }
            }
            GS => {
                let cmd = *arg(i + 1, 1)?.first().unwrap_or(&0);
                i += 2;
                match cmd {
                    b'!' => {
                        arg(i, 1)?;
                        i += 1;
                    }
                    b'V' => {
                        let m = arg(i, 1)?[0];
                        i += 1;
                        // Function B (m = 65, 66, 97, 98, 103, 104) carries a feed amount n.
                        if matches!(m, 65 | 66 | 97 | 98 | 103 | 104) {
                            arg(i, 1)?;
                            i += 1;
                        }
                        if !line.is_empty() {
                            flush(&mut line, &mut out);
                        }
                        out.lines.push("--- cut ---".to_string());
                        out.cuts += 1;
                    }
                    b'(' => {
                        let head = arg(i, 3)?;
                        if head[0] != b'k' {
                            return Err(DecodeError::Unknown {
                                at: i - 2,
                                cmd: format!("GS ( 0x{:02x}", head[0]),
                            });
                        }
                        let len = head[1] as usize + 256 * head[2] as usize;
                        let body = arg(i + 3, len)?;
                        i += 3 + len;
                        // body = cn fn [parameters]; cn 49 = QR code.
                        if body.len() >= 2 && body[0] == 49 {
                            match body[1] {
                                80 if body.len() >= 3 => {
                                    pending_qr =
                                        Some(String::from_utf8_lossy(&body[3..]).to_string());
                                }
                                81 => {
                                    if let Some(q) = pending_qr.take() {
                                        if !line.is_empty() {
                                            flush(&mut line, &mut out);
                                        }
                                        out.lines.push(format!("[QR] {q}"));
                                        out.qr.push(q);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                    other => {
                        return Err(DecodeError::Unknown {
                            at: i - 2,
                            cmd: format!("GS 0x{other:02x}"),
                        });
                    }
                }
            }
            FS => {
                let cmd = *arg(i + 1, 1)?.first().unwrap_or(&0);
                i += 2;
                if !matches!(cmd, b'&' | b'.') {
                    return Err(DecodeError::Unknown {
                        at: i - 2,
                        cmd: format!("FS 0x{cmd:02x}"),
                    });
                }
            }
            DLE => {
                arg(i + 1, 2)?;
                i += 3;
            }
            _ => {
                line.push(b);
                i += 1;
            }
        }
    }
    if !line.is_empty() {
        flush(&mut line, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn qr_store_and_print_follow_the_epson_layout() {
        // GS ( k pL pH cn fn m d1..dk with k = (pL + pH*256) - 3 (Epson, GS ( k <Function 180>).
        let mut b = vec![0x1d, b'(', b'k', 6, 0, 49, 80, 48, b'a', b'b', b'c'];
        b.extend([0x1d, b'(', b'k', 3, 0, 49, 81, 48]);
        let d = decode(&b).unwrap();
        assert_eq!(d.qr, vec!["abc".to_string()]);
    }

    #[test]
    fn gbk_text_and_feeds_become_lines() {
        // "电" is 0xB5 0xE7 in GB 2312/GBK.
        let b = [
            0x1b, b'@', 0xb5, 0xe7, 0x1b, b'd', 2, b'x', 0x0a, 0x1d, b'V', b'A', 0,
        ];
        let d = decode(&b).unwrap();
        assert_eq!(d.lines, vec!["电", "", "x", "--- cut ---"]);
        assert_eq!(d.cuts, 1);
    }

    #[test]
    fn truncated_and_unknown_commands_are_errors() {
        assert_eq!(decode(&[0x1b]), Err(DecodeError::Truncated { at: 1 }));
        assert!(matches!(
            decode(&[0x1d, b'(', b'k', 9, 0, 49]),
            Err(DecodeError::Truncated { .. })
        ));
        assert!(matches!(
            decode(&[0x1b, 0x99]),
            Err(DecodeError::Unknown { .. })
        ));
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }
    }
}
