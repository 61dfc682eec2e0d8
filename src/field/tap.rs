//! A byte stream wrapper every bus connection goes through. It does two jobs a bus master
//! needs and the Modbus client library does not do:
//!
//! - **purge before transmit**: bytes still arriving from an earlier, timed-out reply are
//!   discarded before a new request goes out (what `tcflush(TCIFLUSH)` does on a real master),
//!   so a late reply can never be taken for the answer to the next request;
//! - **record what came back**: when a request times out the collector looks at the bytes
//!   that did arrive to say *why* (nothing, wrong address, CRC mismatch, garbage).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the tap saw since the last request went out.
#[derive(Debug, Default)]
pub struct TapState {
    /// Bytes received since the last purge (capped: only the start of a reply matters).
    pub rx: Vec<u8>,
    /// When the last byte arrived or was sent.
    pub last_activity: Option<Instant>,
    /// Set by the bus before a request; the next write discards pending input first.
    pub purge_before_write: bool,
}

const RX_KEEP: usize = 512;

pub type SharedTap = Arc<Mutex<TapState>>;

/// Discarding input the kernel already holds. A serial port flushes its driver buffer
/// (`tcflush(TCIFLUSH)` through `serialport`); a socket has no such call, so for it only the
/// non-blocking drain in [`Tap`] applies.
pub trait ClearInput {
    fn clear_input(&self) {}
}

impl ClearInput for tokio_serial::SerialStream {
    fn clear_input(&self) {
        use tokio_serial::SerialPort;
        let _ = self.clear(tokio_serial::ClearBuffer::Input);
    }
}

impl ClearInput for tokio::net::TcpStream {}

impl ClearInput for tokio::io::DuplexStream {}

impl<T: ClearInput + ?Sized> ClearInput for Box<T> {
    fn clear_input(&self) {
        (**self).clear_input()
    }
}

/// The stream wrapper; `S` is a serial port or a TCP stream.
#[derive(Debug)]
pub struct Tap<S> {
    inner: S,
    state: SharedTap,
}

impl<S> Tap<S> {
    pub fn new(inner: S) -> (Tap<S>, SharedTap) {
        let state = SharedTap::default();
        (
            Tap {
                inner,
                state: state.clone(),
            },
            state,
        )
    }
}

pub fn lock(state: &SharedTap) -> std::sync::MutexGuard<'_, TapState> {
    // A poisoned lock only means another task panicked mid-update of plain data.
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl<S: AsyncRead + ClearInput + Unpin> Tap<S> {
    /// Reads and drops whatever input is already waiting, without blocking.
    fn purge(&mut self, cx: &mut Context<'_>) {
        self.inner.clear_input();
        let mut scratch = [0u8; 256];
        for _ in 0..64 {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => continue,
                _ => break,
            }
        }
        lock(&self.state).rx.clear();
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            let new = &buf.filled()[before..];
            if !new.is_empty() {
                let mut st = lock(&this.state);
                let room = RX_KEEP.saturating_sub(st.rx.len());
                st.rx.extend_from_slice(&new[..new.len().min(room)]);
                st.last_activity = Some(Instant::now());
            }
        }
        res
    }
}

impl<S: AsyncRead + AsyncWrite + ClearInput + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let purge = std::mem::take(&mut lock(&self.state).purge_before_write);
        if purge {
            self.purge(cx);
        }
        let res = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(_)) = res {
            lock(&self.state).last_activity = Some(Instant::now());
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn purges_stale_input_before_the_next_request_and_records_replies() {
        let (a, mut b) = tokio::io::duplex(64);
        let (mut tap, state) = Tap::new(a);
        b.write_all(b"late").await.unwrap();
        tokio::task::yield_now().await;
        lock(&state).purge_before_write = true;
        tap.write_all(b"req").await.unwrap();
        let mut got = [0u8; 3];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"req");
        b.write_all(b"ok").await.unwrap();
        let mut reply = [0u8; 2];
        tap.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"ok", "the stale bytes were dropped");
        assert_eq!(lock(&state).rx, b"ok");
    }
}
