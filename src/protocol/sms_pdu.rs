//! SMS PDUs (3GPP TS 23.040 for the TPDU, TS 23.038 for the alphabets, TS 27.005 for the
//! AT+CMGS length): an SMS-SUBMIT encoder and an SMS-SUBMIT / SMS-DELIVER decoder.
//!
//! Plain text that fits the GSM 7-bit default alphabet (with its extension table) goes out
//! as 7-bit; anything else (Chinese) as UCS-2. Text longer than one message is split into
//! concatenated parts with a user-data header (IEI 0x00, 8-bit reference), never inside an
//! escape sequence or a UTF-16 surrogate pair. Known answer: test-vectors §7 (byte-exact).
//! Pure: no I/O; bad input gives an error value, never a panic.

/// Why a PDU could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PduError {
    #[error("phone number '{0}' is not 1 to 20 digits with an optional leading +")]
    BadNumber(String),
    #[error("text needs {0} parts; at most 255 are possible")]
    TooLong(usize),
    #[error("PDU truncated: {0}")]
    Truncated(&'static str),
    #[error("not hex: {0}")]
    NotHex(String),
    #[error("unsupported message type (TP-MTI {0})")]
    UnsupportedType(u8),
    #[error("bad user data: {0}")]
    BadUserData(String),
    #[error("concatenated parts do not fit together: {0}")]
    BadParts(String),
}

/// Text encodings of the user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    EightBit,
    Ucs2,
}

// ---- GSM 7-bit default alphabet (TS 23.038 §6.2.1) ----

const GSM7_BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// Extension table (after the escape 0x1B), TS 23.038 §6.2.1.1.
const GSM7_EXT: [(u8, char); 10] = [
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

const ESC: u8 = 0x1B;

/// Septets for one character, or `None` if the GSM alphabet lacks it.
fn gsm7_septets(c: char) -> Option<Vec<u8>> {
    if c != '\u{1B}'
        && let Some(i) = GSM7_BASIC.iter().position(|&g| g == c)
    {
        return Some(vec![i as u8]);
    }
    GSM7_EXT
        .iter()
        .find(|(_, g)| *g == c)
        .map(|(code, _)| vec![ESC, *code])
}

/// Whether the whole text fits the GSM 7-bit alphabet (else it goes as UCS-2).
pub fn choose_encoding(text: &str) -> Encoding {
    if text.chars().all(|c| gsm7_septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

fn gsm7_decode(septets: &[u8]) -> String {
    let mut out = String::new();
    let mut it = septets.iter();
    while let Some(&s) = it.next() {
        if s == ESC {
            match it.next() {
                Some(&e) => match GSM7_EXT.iter().find(|(code, _)| *code == e) {
                    Some((_, c)) => out.push(*c),
                    // Unknown extension: TS 23.038 says show the basic character.
                    None => out.push(GSM7_BASIC[usize::from(e & 0x7F)]),
                },
                None => out.push(' '),
            }
        } else {
            out.push(GSM7_BASIC[usize::from(s & 0x7F)]);
        }
    }
    out
}

/// Packs septets LSB-first after `fill` zero bits (TS 23.038 §6.1.2.1.1).
fn pack_septets(septets: &[u8], fill: usize) -> Vec<u8> {
    let bits = fill + 7 * septets.len();
    let mut out = vec![0u8; bits.div_ceil(8)];
    for (i, &s) in septets.iter().enumerate() {
        for b in 0..7 {
            if s & (1 << b) != 0 {
                let pos = fill + 7 * i + b;
                out[pos / 8] |= 1 << (pos % 8);
            }
        }
    }
    out
}

/// Unpacks `count` septets starting after `fill` bits.
fn unpack_septets(bytes: &[u8], fill: usize, count: usize) -> Result<Vec<u8>, PduError> {
    if (fill + 7 * count).div_ceil(8) > bytes.len() {
        return Err(PduError::Truncated("7-bit user data"));
    }
    Ok((0..count)
        .map(|i| {
            (0..7).fold(0u8, |acc, b| {
                let pos = fill + 7 * i + b;
                acc | (((bytes[pos / 8] >> (pos % 8)) & 1) << b)
            })
        })
        .collect())
}

// ---- addresses ----

/// Type-of-address octets (TS 23.040 §9.1.2.5).
pub const TOA_INTERNATIONAL: u8 = 0x91;
/// Unknown type, ISDN plan: how numbers without '+' (national dialling) are sent.
pub const TOA_UNKNOWN: u8 = 0x81;

fn semi_octets(digits: &str) -> Result<Vec<u8>, PduError> {
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'*' => Some(0xA),
        b'#' => Some(0xB),
        _ => None,
    };
    let mut out = Vec::new();
    for pair in digits.as_bytes().chunks(2) {
        let lo = nib(pair[0]).ok_or(PduError::BadNumber(digits.into()))?;
        let hi = match pair.get(1) {
            Some(&c) => nib(c).ok_or(PduError::BadNumber(digits.into()))?,
            None => 0xF,
        };
        out.push((hi << 4) | lo);
    }
    Ok(out)
}

fn parse_number(number: &str) -> Result<(u8, String), PduError> {
    let n: String = number
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let (toa, digits) = match n.strip_prefix('+') {
        Some(d) => (TOA_INTERNATIONAL, d.to_string()),
        None => (TOA_UNKNOWN, n),
    };
    if digits.is_empty()
        || digits.len() > 20
        || !digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
    {
        return Err(PduError::BadNumber(number.to_string()));
    }
    Ok((toa, digits))
}

/// TP-DA / TP-OA: digit count, type, swapped semi-octets.
fn encode_address(number: &str) -> Result<Vec<u8>, PduError> {
    let (toa, digits) = parse_number(number)?;
    let mut out = vec![digits.len() as u8, toa];
    out.extend(semi_octets(&digits)?);
    Ok(out)
}

/// SMSC field: length in octets (type included), type, swapped semi-octets; `00` = default.
fn encode_smsc(smsc: Option<&str>) -> Result<Vec<u8>, PduError> {
    let Some(number) = smsc else {
        return Ok(vec![0]);
    };
    let (toa, digits) = parse_number(number)?;
    let body = semi_octets(&digits)?;
    let mut out = vec![(body.len() + 1) as u8, toa];
    out.extend(body);
    Ok(out)
}

fn decode_digits(bytes: &[u8], count: usize) -> String {
    let mut s = String::new();
    for b in bytes {
        for nib in [b & 0x0F, b >> 4] {
            if s.len() >= count {
                break;
            }
            s.push(match nib {
                0..=9 => char::from(b'0' + nib),
                0xA => '*',
                0xB => '#',
                0xC => 'a',
                0xD => 'b',
                0xE => 'c',
                _ => break,
            });
        }
    }
    s
}

fn number_text(toa: u8, digits: String) -> String {
    if toa & 0x70 == 0x10 {
        format!("+{digits}")
    } else {
        digits
    }
}

// ---- encoder ----

/// Options of an SMS-SUBMIT. `Default` matches test-vectors §7: no SMSC (modem default),
/// no status report, no validity period, message reference 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitOptions {
    /// Service centre number; `None` lets the modem use its stored one.
    pub smsc: Option<String>,
    pub status_report: bool,
    /// Relative validity period octet (TS 23.040 §9.2.3.12.1), e.g. 0xA7 = 24 hours.
    pub validity: Option<u8>,
    pub message_ref: u8,
    /// Reference shared by the parts of one concatenated message.
    pub concat_ref: u8,
}

/// One encoded PDU, ready for `AT+CMGS=<cmgs_len>` then the hex and Ctrl-Z.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitPdu {
    pub bytes: Vec<u8>,
    /// Octets after the SMSC field (TS 27.005 §3.5.1: the `<length>` of AT+CMGS).
    pub tpdu_len: usize,
}

impl SubmitPdu {
    pub fn hex(&self) -> String {
        hex::encode_upper(&self.bytes)
    }

    pub fn cmgs_len(&self) -> usize {
        self.tpdu_len
    }
}

/// Septets (GSM 7) per single message and per concatenated part; UCS-2 code units likewise.
const GSM7_SINGLE: usize = 160;
const GSM7_PART: usize = 153;
const UCS2_SINGLE: usize = 70;
const UCS2_PART: usize = 67;

/// Splits units (each a char's septets or UTF-16 units) into parts of at most `max` units
/// without splitting a char.
fn split_units(chars: &[Vec<u16>], max: usize) -> Vec<Vec<u16>> {
    let mut parts: Vec<Vec<u16>> = vec![];
    let mut cur: Vec<u16> = vec![];
    for c in chars {
        if cur.len() + c.len() > max {
            parts.push(std::mem::take(&mut cur));
        }
        cur.extend_from_slice(c);
    }
    parts.push(cur);
    parts
}

/// Encodes `text` to `to` as one or more SMS-SUBMIT PDUs.
pub fn encode_submit(
    to: &str,
    text: &str,
    opts: &SubmitOptions,
) -> Result<Vec<SubmitPdu>, PduError> {
    let encoding = choose_encoding(text);
    let units: Vec<Vec<u16>> = match encoding {
        Encoding::Gsm7 => text
            .chars()
            .map(|c| {
                gsm7_septets(c)
                    .unwrap_or_default()
                    .into_iter()
                    .map(u16::from)
                    .collect()
            })
            .collect(),
        _ => text
            .chars()
            .map(|c| {
                let mut b = [0u16; 2];
                c.encode_utf16(&mut b).to_vec()
            })
            .collect(),
    };
    let total: usize = units.iter().map(Vec::len).sum();
    let (single, part) = match encoding {
        Encoding::Gsm7 => (GSM7_SINGLE, GSM7_PART),
        _ => (UCS2_SINGLE, UCS2_PART),
    };
    let parts = if total <= single {
        vec![units.concat()]
    } else {
        split_units(&units, part)
    };
    if parts.len() > 255 {
        return Err(PduError::TooLong(parts.len()));
    }
    let smsc = encode_smsc(opts.smsc.as_deref())?;
    let da = encode_address(to)?;
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let udh =
                (n > 1).then(|| vec![0x05, 0x00, 0x03, opts.concat_ref, n as u8, i as u8 + 1]);
            let mut first = 0x01; // TP-MTI = SMS-SUBMIT
            if opts.validity.is_some() {
                first |= 0x10; // TP-VPF = relative
            }
            if opts.status_report {
                first |= 0x20;
            }
            if udh.is_some() {
                first |= 0x40;
            }
            let mut t = vec![first, opts.message_ref];
            t.extend_from_slice(&da);
            t.push(0x00); // TP-PID
            t.push(if encoding == Encoding::Gsm7 {
                0x00
            } else {
                0x08
            });
            if let Some(vp) = opts.validity {
                t.push(vp);
            }
            let udh_bytes = udh.unwrap_or_default();
            match encoding {
                Encoding::Gsm7 => {
                    let septets: Vec<u8> = p.iter().map(|&u| u as u8).collect();
                    let header_bits = udh_bytes.len() * 8;
                    let fill = (7 - header_bits % 7) % 7;
                    let header_septets = (header_bits + fill) / 7;
                    t.push((header_septets + septets.len()) as u8);
                    t.extend_from_slice(&udh_bytes);
                    t.extend(pack_septets(&septets, fill));
                }
                _ => {
                    let body: Vec<u8> = p.iter().flat_map(|u| u.to_be_bytes()).collect();
                    t.push((udh_bytes.len() + body.len()) as u8);
                    t.extend_from_slice(&udh_bytes);
                    t.extend(body);
                }
            }
            let mut bytes = smsc.clone();
            bytes.extend_from_slice(&t);
            Ok(SubmitPdu {
                tpdu_len: t.len(),
                bytes,
            })
        })
        .collect()
}

// ---- decoder ----

/// Concatenation info from the user-data header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concat {
    pub reference: u16,
    pub total: u8,
    pub seq: u8,
}

/// Message direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Submit,
    Deliver,
}

/// A decoded SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub kind: Kind,
    pub smsc: Option<String>,
    /// Destination (SUBMIT) or originator (DELIVER), with '+' when international.
    pub number: String,
    pub message_ref: Option<u8>,
    pub encoding: Encoding,
    pub text: String,
    pub concat: Option<Concat>,
    /// SMS-DELIVER service-centre time stamp, as the 7 raw semi-octet-swapped bytes.
    pub timestamp: Option<[u8; 7]>,
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self, what: &'static str) -> Result<u8, PduError> {
        let v = *self.b.get(self.i).ok_or(PduError::Truncated(what))?;
        self.i += 1;
        Ok(v)
    }
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PduError> {
        let end = self.i.checked_add(n).ok_or(PduError::Truncated(what))?;
        let s = self.b.get(self.i..end).ok_or(PduError::Truncated(what))?;
        self.i = end;
        Ok(s)
    }
}

fn dcs_encoding(dcs: u8) -> Encoding {
    let alphabet = match dcs >> 4 {
        0x0..=0x7 => (dcs >> 2) & 0x03,
        0xE => 2,
        0xF => (dcs >> 2) & 0x01,
        _ => 0,
    };
    match alphabet {
        1 => Encoding::EightBit,
        2 => Encoding::Ucs2,
        _ => Encoding::Gsm7,
    }
}

fn read_address(r: &mut Reader<'_>) -> Result<String, PduError> {
    let digits = usize::from(r.u8("address length")?);
    let toa = r.u8("address type")?;
    let bytes = r.take(digits.div_ceil(2), "address digits")?;
    if toa & 0x70 == 0x50 {
        // Alphanumeric sender: GSM 7-bit packed in the semi-octets.
        let septets = unpack_septets(bytes, 0, digits * 4 / 7)?;
        return Ok(gsm7_decode(&septets));
    }
    Ok(number_text(toa, decode_digits(bytes, digits)))
}

/// Decodes a PDU as a modem reads it (SMSC field first).
pub fn decode(pdu: &[u8]) -> Result<Sms, PduError> {
    let mut r = Reader { b: pdu, i: 0 };
    let smsc_len = usize::from(r.u8("SMSC length")?);
    let smsc = if smsc_len == 0 {
        None
    } else {
        let f = r.take(smsc_len, "SMSC")?;
        Some(number_text(
            f[0],
            decode_digits(&f[1..], (smsc_len - 1) * 2),
        ))
    };
    let first = r.u8("first octet")?;
    let udhi = first & 0x40 != 0;
    let (kind, message_ref, number, vpf) = match first & 0x03 {
        0 => (Kind::Deliver, None, read_address(&mut r)?, 0),
        1 => {
            let mr = r.u8("TP-MR")?;
            (
                Kind::Submit,
                Some(mr),
                read_address(&mut r)?,
                (first >> 3) & 0x03,
            )
        }
        other => return Err(PduError::UnsupportedType(other)),
    };
    let _pid = r.u8("TP-PID")?;
    let dcs = r.u8("TP-DCS")?;
    let timestamp = if kind == Kind::Deliver {
        let mut ts = [0u8; 7];
        ts.copy_from_slice(r.take(7, "TP-SCTS")?);
        Some(ts)
    } else {
        match vpf {
            0 => {}
            2 => {
                r.take(1, "TP-VP")?;
            }
            _ => {
                r.take(7, "TP-VP")?;
            }
        }
        None
    };
    let encoding = dcs_encoding(dcs);
    let udl = usize::from(r.u8("TP-UDL")?);
    let ud = &pdu[r.i..];
    let (header_len, concat) = if udhi {
        let udhl = usize::from(*ud.first().ok_or(PduError::Truncated("UDH"))?);
        let h = ud
            .get(1..1 + udhl)
            .ok_or(PduError::Truncated("UDH elements"))?;
        (1 + udhl, parse_udh(h)?)
    } else {
        (0, None)
    };
    let text = match encoding {
        Encoding::Gsm7 => {
            let header_bits = header_len * 8;
            let fill = (7 - header_bits % 7) % 7;
            let header_septets = (header_bits + fill) / 7;
            let count = udl
                .checked_sub(header_septets)
                .ok_or(PduError::BadUserData("UDL shorter than the header".into()))?;
            let body = ud.get(header_len..).unwrap_or(&[]);
            gsm7_decode(&unpack_septets(body, fill, count)?)
        }
        Encoding::Ucs2 | Encoding::EightBit => {
            if ud.len() < udl || udl < header_len {
                return Err(PduError::Truncated("user data"));
            }
            let body = &ud[header_len..udl];
            if encoding == Encoding::EightBit {
                body.iter().map(|&b| char::from(b)).collect()
            } else {
                if !body.len().is_multiple_of(2) {
                    return Err(PduError::BadUserData("odd UCS-2 length".into()));
                }
                let units = body
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]));
                char::decode_utf16(units)
                    .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect()
            }
        }
    };
    Ok(Sms {
        kind,
        smsc,
        number,
        message_ref,
        encoding,
        text,
        concat,
        timestamp,
    })
}

fn parse_udh(mut h: &[u8]) -> Result<Option<Concat>, PduError> {
    let mut concat = None;
    while let [iei, len, rest @ ..] = h {
        let len = usize::from(*len);
        let data = rest
            .get(..len)
            .ok_or(PduError::BadUserData("UDH element overruns".into()))?;
        match (*iei, data) {
            (0x00, [r, total, seq]) => {
                concat = Some(Concat {
                    reference: u16::from(*r),
                    total: *total,
                    seq: *seq,
                })
            }
            (0x08, [r1, r2, total, seq]) => {
                concat = Some(Concat {
                    reference: u16::from_be_bytes([*r1, *r2]),
                    total: *total,
                    seq: *seq,
                })
            }
            _ => {}
        }
        h = &rest[len..];
    }
    if !h.is_empty() {
        return Err(PduError::BadUserData("trailing UDH byte".into()));
    }
    Ok(concat)
}

/// Decodes a PDU given as hex (as `AT+CMGS` carries it).
pub fn decode_hex(text: &str) -> Result<Sms, PduError> {
    let bytes = hex::decode(text.trim()).map_err(|e| PduError::NotHex(e.to_string()))?;
    decode(&bytes)
}

/// Joins the parts of one concatenated message in order (a single unconcatenated message
/// is returned as is). Parts must share reference and total, and all must be present.
pub fn reassemble(parts: &[Sms]) -> Result<String, PduError> {
    let Some(first) = parts.first() else {
        return Err(PduError::BadParts("no parts".into()));
    };
    let Some(c0) = first.concat else {
        if parts.len() == 1 {
            return Ok(first.text.clone());
        }
        return Err(PduError::BadParts("several parts without a header".into()));
    };
    let mut sorted: Vec<(Concat, &str)> = Vec::new();
    for p in parts {
        let c = p
            .concat
            .ok_or(PduError::BadParts("a part lacks its header".into()))?;
        if c.reference != c0.reference || c.total != c0.total {
            return Err(PduError::BadParts("mixed references".into()));
        }
        sorted.push((c, &p.text));
    }
    sorted.sort_by_key(|(c, _)| c.seq);
    let seqs: Vec<u8> = sorted.iter().map(|(c, _)| c.seq).collect();
    let want: Vec<u8> = (1..=c0.total).collect();
    if seqs != want {
        return Err(PduError::BadParts(format!(
            "have parts {seqs:?} of {}",
            c0.total
        )));
    }
    Ok(sorted.iter().map(|(_, t)| *t).collect())
}
