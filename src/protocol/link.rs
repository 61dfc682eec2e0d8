//! Secure gateway link framing (issue 4 item 5): `voltvend gateway` on a gateway box bridges
//! its RS-485 bus to the server over TCP in frames of (length, sequence number, 3DES-CBC
//! ciphertext, MAC). Replayed, reordered, truncated or tampered frames are refused, and each
//! connection gets fresh session keys. Pure codec + a small state machine: the caller does
//! the TCP I/O, supplies random nonces, and drops/counts what [`LinkSession::open`] refuses.
//!
//! Wire format (all integers big-endian):
//!
//! ```text
//! hello: len=18 (u16) | 'H' | role (1 gateway, 2 server) | nonce (8) | MAC (8)
//! data:  len (u16)    | 'D' | role of the sender | seq (u64) | ciphertext (8·k) | MAC (8)
//! ```
//!
//! `len` counts the bytes after itself. Each side sends a hello with a fresh random nonce
//! when the TCP connection opens; the hello MAC (retail MAC with a key variant of the master
//! key) proves the peer holds the key. Session key KS = 3DES(MKs, N_gateway) ‖
//! 3DES(MKs, ~N_server), MKs a variant of the master key; KS ⊕ 11.. encrypts and KS ⊕ 22..
//! MACs. A data frame's payload is padded (ISO/IEC 9797-1 method 2) and encrypted with
//! 3DES-CBC, IV = 3DES(K_enc, seq); the MAC (ISO/IEC 9797-1 algorithm 3) covers everything
//! from 'D' to the end of the ciphertext. Sequence numbers start at 1 in each direction and
//! must strictly increase: gaps (a frame lost) are allowed, going back is not.

use super::credit::{
    Padding, TdesKey, mac_eq, pad, retail_mac, tdes_cbc_decrypt, tdes_cbc_encrypt,
    tdes_ecb_encrypt, unpad_method2,
};

/// Largest payload carried in one frame (an RTU ADU is at most 256 bytes).
pub const MAX_PAYLOAD: usize = 1024;
pub const HELLO_LEN: usize = 2 + 18;
const KIND_HELLO: u8 = b'H';
const KIND_DATA: u8 = b'D';
/// Bytes of a data frame besides the ciphertext: len, kind, role, seq, MAC.
const DATA_OVERHEAD: usize = 2 + 1 + 1 + 8 + 8;

/// Why a link frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("malformed link frame: {0}")]
    Malformed(String),
    #[error("link frame MAC does not verify (tampered or wrong key)")]
    BadMac,
    #[error("sequence number {seq} is not after {last} (replayed or reordered)")]
    Replayed { seq: u64, last: u64 },
    #[error("payload of {0} bytes is larger than {MAX_PAYLOAD}")]
    TooLarge(usize),
    #[error("no session yet: exchange hellos first")]
    NotEstablished,
    #[error("frame claims to come from our own side (reflected)")]
    Reflected,
    #[error("sequence numbers exhausted: reconnect to re-key")]
    Exhausted,
}

/// Which end of the link this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Gateway,
    Server,
}

impl Role {
    fn code(self) -> u8 {
        match self {
            Role::Gateway => 1,
            Role::Server => 2,
        }
    }
}

/// What a session refused so far (the gateway logs and exports these).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub accepted: u64,
    pub replayed: u64,
    pub tampered: u64,
    pub malformed: u64,
}

fn variant(key: &[u8; 16], v: u8) -> [u8; 16] {
    key.map(|b| b ^ v)
}

/// Total length of the first frame in `buf` once its length prefix has arrived
/// (`Ok(None)`: read more). A stream reader waits for that many bytes, then calls
/// [`LinkSession::open`] or [`LinkSession::accept_hello`].
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, LinkError> {
    let [a, b, ..] = buf else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([*a, *b]));
    if !(18..=DATA_OVERHEAD - 2 + MAX_PAYLOAD + 8).contains(&len) {
        return Err(LinkError::Malformed(format!("length {len}")));
    }
    Ok(Some(2 + len))
}

struct Keys {
    enc: TdesKey,
    mac: [u8; 16],
}

/// One connection's state: handshake, keys, and the two sequence counters.
pub struct LinkSession {
    master: [u8; 16],
    role: Role,
    nonce: [u8; 8],
    keys: Option<Keys>,
    send_seq: u64,
    recv_seq: u64,
    pub stats: LinkStats,
}

impl LinkSession {
    /// A new session; `nonce` must be fresh random bytes for every connection.
    pub fn new(master: [u8; 16], role: Role, nonce: [u8; 8]) -> LinkSession {
        LinkSession {
            master,
            role,
            nonce,
            keys: None,
            send_seq: 0,
            recv_seq: 0,
            stats: LinkStats::default(),
        }
    }

    pub fn is_established(&self) -> bool {
        self.keys.is_some()
    }

    fn hello_mac(&self, role: u8, nonce: &[u8]) -> [u8; 8] {
        let mut m = vec![KIND_HELLO, role];
        m.extend_from_slice(nonce);
        retail_mac(&variant(&self.master, 0x33), &m, Padding::Method2)
    }

    /// Our hello frame, sent first on a new connection.
    pub fn hello(&self) -> Vec<u8> {
        let mut f = vec![0, 18, KIND_HELLO, self.role.code()];
        f.extend_from_slice(&self.nonce);
        f.extend_from_slice(&self.hello_mac(self.role.code(), &self.nonce));
        f
    }

    /// Takes the peer's hello: checks it, derives the session keys, resets the counters.
    pub fn accept_hello(&mut self, frame: &[u8]) -> Result<(), LinkError> {
        let r = self.check_hello(frame);
        if r.is_err() {
            self.stats.malformed += 1;
        }
        let peer_nonce = r?;
        let (ng, ns) = match self.role {
            Role::Gateway => (self.nonce, peer_nonce),
            Role::Server => (peer_nonce, self.nonce),
        };
        let mks = TdesKey::Two(variant(&self.master, 0x44));
        let mut ks = [0u8; 16];
        ks[..8].copy_from_slice(&tdes_ecb_encrypt(&mks, ng));
        ks[8..].copy_from_slice(&tdes_ecb_encrypt(&mks, ns.map(|b| !b)));
        self.keys = Some(Keys {
            enc: TdesKey::Two(variant(&ks, 0x11)),
            mac: variant(&ks, 0x22),
        });
        self.send_seq = 0;
        self.recv_seq = 0;
        Ok(())
    }

    fn check_hello(&self, frame: &[u8]) -> Result<[u8; 8], LinkError> {
        if frame.len() != HELLO_LEN || frame[..3] != [0, 18, KIND_HELLO] {
            return Err(LinkError::Malformed("not a hello frame".into()));
        }
        let role = frame[3];
        if role == self.role.code() {
            return Err(LinkError::Reflected);
        }
        if role != Role::Gateway.code() && role != Role::Server.code() {
            return Err(LinkError::Malformed(format!("role {role}")));
        }
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&frame[4..12]);
        if !mac_eq(&self.hello_mac(role, &nonce), &frame[12..20]) {
            return Err(LinkError::BadMac);
        }
        Ok(nonce)
    }

    /// Wraps one payload (e.g. an RTU frame) into a data frame.
    pub fn seal(&mut self, payload: &[u8]) -> Result<Vec<u8>, LinkError> {
        let keys = self.keys.as_ref().ok_or(LinkError::NotEstablished)?;
        if payload.len() > MAX_PAYLOAD {
            return Err(LinkError::TooLarge(payload.len()));
        }
        let seq = self.send_seq.checked_add(1).ok_or(LinkError::Exhausted)?;
        let iv = tdes_ecb_encrypt(&keys.enc, seq.to_be_bytes());
        let ct = tdes_cbc_encrypt(&keys.enc, iv, &pad(payload, Padding::Method2))
            .map_err(|e| LinkError::Malformed(e.to_string()))?;
        let len = (DATA_OVERHEAD - 2 + ct.len()) as u16;
        let mut f = len.to_be_bytes().to_vec();
        f.push(KIND_DATA);
        f.push(self.role.code());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&ct);
        let mac = retail_mac(&keys.mac, &f[2..], Padding::Method2);
        f.extend_from_slice(&mac);
        self.send_seq = seq;
        Ok(f)
    }

    /// Checks and unwraps one data frame from the peer. A refused frame changes nothing
    /// but the counters in [`LinkSession::stats`].
    pub fn open(&mut self, frame: &[u8]) -> Result<Vec<u8>, LinkError> {
        let r = self.open_inner(frame);
        match &r {
            Ok(_) => self.stats.accepted += 1,
            Err(LinkError::Replayed { .. }) => self.stats.replayed += 1,
            Err(LinkError::BadMac) | Err(LinkError::Reflected) => self.stats.tampered += 1,
            Err(_) => self.stats.malformed += 1,
        }
        r
    }

    fn open_inner(&mut self, frame: &[u8]) -> Result<Vec<u8>, LinkError> {
        let keys = self.keys.as_ref().ok_or(LinkError::NotEstablished)?;
        let total = frame_len(frame)?.ok_or(LinkError::Malformed("no length".into()))?;
        if total != frame.len() {
            return Err(LinkError::Malformed(format!(
                "length says {total} bytes, frame has {}",
                frame.len()
            )));
        }
        if frame[2] != KIND_DATA {
            return Err(LinkError::Malformed(format!("kind 0x{:02X}", frame[2])));
        }
        let ct_len = frame.len() - DATA_OVERHEAD;
        if ct_len == 0 || !ct_len.is_multiple_of(8) {
            return Err(LinkError::Malformed(format!(
                "ciphertext of {ct_len} bytes"
            )));
        }
        let (body, mac) = frame.split_at(frame.len() - 8);
        if !mac_eq(&retail_mac(&keys.mac, &body[2..], Padding::Method2), mac) {
            return Err(LinkError::BadMac);
        }
        if frame[3] == self.role.code() {
            return Err(LinkError::Reflected);
        }
        let mut s = [0u8; 8];
        s.copy_from_slice(&frame[4..12]);
        let seq = u64::from_be_bytes(s);
        if seq <= self.recv_seq {
            return Err(LinkError::Replayed {
                seq,
                last: self.recv_seq,
            });
        }
        let iv = tdes_ecb_encrypt(&keys.enc, s);
        let plain = tdes_cbc_decrypt(&keys.enc, iv, &body[12..])
            .map_err(|e| LinkError::Malformed(e.to_string()))?;
        let payload = unpad_method2(&plain)
            .ok_or(LinkError::Malformed("bad padding".into()))?
            .to_vec();
        self.recv_seq = seq;
        Ok(payload)
    }
}
