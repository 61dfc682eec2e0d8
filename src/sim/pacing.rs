//! Byte pacing: a real RS-485 line carries one character per 11 bit times (8E1: start, 8
//! data, parity, stop; 8N2 likewise; 8N1 is 10; see `protocol::serial`). The simulator writes each byte no earlier
//! than its slot, so a master on a pty sees the timing of a real bus.

use crate::protocol::serial::Framing;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// Time of one character on the wire (`None` = unpaced).
pub fn char_time(baud: u32, framing: Framing) -> Option<Duration> {
    (baud != 0).then(|| framing.char_time(baud))
}

/// Wire time of `n` characters.
pub fn wire_time(n: usize, char_time: Option<Duration>) -> Duration {
    char_time.map_or(Duration::ZERO, |c| c * u32::try_from(n).unwrap_or(u32::MAX))
}

/// Writes `bytes` paced at `char_time` per byte, starting now: byte *i* is handed over when
/// it has fully crossed the line, `(i + 1) × char_time` after the start, so the last byte
/// arrives no sooner than `len × char_time` after the start.
/// Deadlines are absolute, so timer lateness never accumulates: bytes whose slot has passed
/// go out together.
pub async fn write_paced<W: AsyncWrite + Unpin>(
    w: &mut W,
    bytes: &[u8],
    char_time: Option<Duration>,
) -> std::io::Result<()> {
    write_paced_from(w, bytes, char_time, Instant::now()).await
}

/// Like [`write_paced`], with the first byte's slot at `start` (which may lie ahead: the
/// writer waits; or behind: late bytes go out at once). Scheduling the whole reply from one
/// absolute start means a late timer wake-up before the reply does not add to its duration.
pub async fn write_paced_from<W: AsyncWrite + Unpin>(
    w: &mut W,
    bytes: &[u8],
    char_time: Option<Duration>,
    start: Instant,
) -> std::io::Result<()> {
    tokio::time::sleep_until(start).await;
    let Some(ct) = char_time else {
        w.write_all(bytes).await?;
        return w.flush().await;
    };
    let mut sent = 0usize;
    while sent < bytes.len() {
        // Byte i has fully arrived (stop bit included) at start + (i+1)×ct, which is when a
        // UART hands it to the reader: send every byte whose arrival time has come.
        let elapsed = Instant::now().saturating_duration_since(start);
        let due = ((elapsed.as_nanos() / ct.as_nanos().max(1)) as usize).min(bytes.len());
        if due > sent {
            w.write_all(&bytes[sent..due]).await?;
            w.flush().await?;
            sent = due;
        }
        if sent < bytes.len() {
            tokio::time::sleep_until(start + ct * u32::try_from(sent + 1).unwrap_or(u32::MAX))
                .await;
        }
    }
    tokio::time::sleep_until(start + wire_time(bytes.len(), Some(ct))).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleven_bits_for_8e1() {
        // 9600 baud 8E1: 11/9600 s = 1145.833 µs per character (rounded up).
        assert_eq!(
            char_time(9600, Framing::E81),
            Some(Duration::from_nanos(1_145_834))
        );
        assert_eq!(
            char_time(9600, Framing::N81),
            Some(Duration::from_nanos(1_041_667))
        );
        assert_eq!(char_time(0, Framing::E81), None);
    }

    #[tokio::test]
    async fn paced_write_takes_the_wire_time() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        let ct = char_time(9600, Framing::E81);
        let t0 = std::time::Instant::now();
        write_paced(&mut a, &[0u8; 39], ct).await.expect("write");
        let took = t0.elapsed();
        // 39 × 11 / 9600 s = 44.69 ms.
        assert!(took >= Duration::from_micros(44_687), "{took:?}");
        let mut buf = [0u8; 39];
        tokio::io::AsyncReadExt::read_exact(&mut b, &mut buf)
            .await
            .expect("read");
    }
}
