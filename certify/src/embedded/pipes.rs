//! The stdio of an embedded testsuite guest: stdin fed by `write` operations, stdout and
//! stderr straight into the runner's [`Pipe`]s.

use crate::stream::Pipe;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use wasmtime_wasi::cli::{IsTerminal, StdinStream, StdoutStream};

/// Stdin of an embedded guest: what `write` operations queued, end of file once closed.
#[derive(Default)]
pub(super) struct Inbox {
    queue: VecDeque<u8>,
    pub(super) closed: bool,
    waker: Option<Waker>,
}

#[derive(Clone, Default)]
pub(super) struct InPipe(Arc<Mutex<Inbox>>);

impl InPipe {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn push(&self, data: &[u8], close: bool) {
        let mut g = self.lock();
        g.queue.extend(data);
        g.closed |= close;
        if let Some(w) = g.waker.take() {
            w.wake();
        }
    }
}

impl tokio::io::AsyncRead for InPipe {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let mut g = self.lock();
        if g.queue.is_empty() {
            if g.closed {
                return Poll::Ready(Ok(()));
            }
            g.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.remaining().min(g.queue.len());
        let bytes: Vec<u8> = g.queue.drain(..n).collect();
        buf.put_slice(&bytes);
        Poll::Ready(Ok(()))
    }
}

// The guest's stdin itself, not wasmtime-wasi's `AsyncStdinStream` adapter: that one reads
// ahead on a task of its own, and a wasip3 guest that drops its stdin stream after a read then
// waits for the read the task still has in flight, which only ends at end of file.
impl IsTerminal for InPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for InPipe {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        Box::new(self.clone())
    }
}

/// Stdout or stderr of an embedded guest, straight into the runner's [`Pipe`].
#[derive(Clone)]
pub(super) struct OutPipe(pub(super) Arc<Pipe>);

impl IsTerminal for OutPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for OutPipe {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for OutPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.feed(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
