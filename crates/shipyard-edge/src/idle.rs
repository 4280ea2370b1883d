//! The idle timeout (`--idle-timeout`): a body that sends nothing for that long fails, and a
//! joined (upgraded) connection on which no byte moves either way for that long is closed, so
//! a client trickling a request, an app stalling a response, or a forgotten WebSocket cannot
//! hold the edge's connections and tasks forever.

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The error an idle body ends with. A type of its own, so code that only sees a boxed error
/// (the API's body reader, the proxy's client) can tell it from any other timeout, such as an
/// instance slow to accept.
#[derive(Debug, thiserror::Error)]
#[error("no data arrived for {} s (--idle-timeout)", .0.as_secs())]
pub struct Idle(Duration);

/// Whether `error`, or an error it was caused by, is an idle body's.
pub fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error.is::<Idle>() {
            return true;
        }
        next = error.source();
    }
    false
}

/// A body that fails with `Idle` when someone has waited `idle` for its next frame. The
/// clock runs only while someone waits: time the reader spends elsewhere (a client slow to take
/// the answer, an app slow to take the upload) is not the body's fault.
pub struct IdleBody<B> {
    inner: B,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    waiting: bool,
}

impl<B> IdleBody<B> {
    /// `inner`, bounded by `idle`.
    pub fn new(inner: B, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            waiting: false,
        }
    }
}

impl<B> Body for IdleBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                if !this.waiting {
                    this.waiting = true;
                    let deadline = Instant::now() + this.idle;
                    this.deadline.as_mut().reset(deadline);
                }
                ready!(this.deadline.as_mut().poll(cx));
                Poll::Ready(Some(Err(Idle(this.idle).into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A body that says (on `done`) when it has been sent whole, or dropped: the idle clock for an
/// app's answer starts then, so a long upload is not taken for a slow app.
pub struct Sent<B> {
    inner: B,
    done: tokio::sync::watch::Sender<bool>,
}

impl<B: Body> Sent<B> {
    /// `inner`, reporting its end on `done`.
    pub fn new(inner: B, done: tokio::sync::watch::Sender<bool>) -> Self {
        Self { inner, done }
    }
}

impl<B> Body for Sent<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.done.send_replace(true);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        // An empty body may never be polled: asking is when it ends.
        let ended = self.inner.is_end_stream();
        if ended {
            self.done.send_replace(true);
        }
        ended
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Sent<B> {
    fn drop(&mut self) {
        self.done.send_replace(true);
    }
}

/// When a joined connection last moved a byte, in milliseconds since it was joined.
struct Clock {
    start: Instant,
    last_ms: AtomicU64,
}

impl Clock {
    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// One side of a joined connection, noting every byte it moves on the shared clock.
struct Touching<T> {
    io: T,
    clock: Arc<Clock>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Touching<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.clock.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Touching<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Copies bytes both ways between `client` and `app` until either closes, or until no byte has
/// moved either way for `idle`; then both are dropped (closed).
pub async fn join<A, B>(client: A, app: B, idle: Duration)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let clock = Arc::new(Clock {
        start: Instant::now(),
        last_ms: AtomicU64::new(0),
    });
    let mut client = Touching {
        io: client,
        clock: clock.clone(),
    };
    let mut app = Touching {
        io: app,
        clock: clock.clone(),
    };
    let watchdog = async {
        loop {
            let deadline = clock.last() + idle;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut app) => {}
        () = watchdog => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_fails_as_timed_out_and_one_that_keeps_coming_does_not() {
        let (mut tx, rx) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(1);
        let mut body = IdleBody::new(rx, Duration::from_secs(2));
        let sender = tokio::spawn(async move {
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                tx.send_data(Bytes::from_static(b"x")).await.expect("send");
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        for _ in 0..4 {
            let frame = body.frame().await.expect("a frame").expect("in time");
            assert_eq!(frame.into_data().expect("data"), Bytes::from_static(b"x"));
        }
        let stalled = body.frame().await.expect("an end").expect_err("timed out");
        assert!(timed_out(stalled.as_ref()), "{stalled}");
        sender.abort();
    }

    #[test]
    fn only_an_idle_body_counts_as_timed_out_not_any_timeout() {
        let connect = std::io::Error::new(std::io::ErrorKind::TimedOut, "the instance did not accept in time");
        assert!(!timed_out(&connect), "a slow instance is a 502, not the client's 408");
        let boxed: axum::BoxError = Idle(Duration::from_secs(2)).into();
        let wrapped = axum::Error::new(boxed);
        assert!(timed_out(&wrapped), "found through the error's sources");
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_is_slow_itself_is_not_the_bodys_fault() {
        let (mut tx, rx) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(1);
        let mut body = IdleBody::new(rx, Duration::from_secs(2));
        // Each piece comes 1 s after the reader, back from 5 s elsewhere, starts waiting.
        let sender = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_secs(6)).await;
                tx.send_data(Bytes::from_static(b"x")).await.expect("send");
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let frame = body.frame().await.expect("a frame").expect("not timed out");
            assert_eq!(frame.into_data().expect("data"), Bytes::from_static(b"x"));
        }
        let started = Instant::now();
        let stalled = body.frame().await.expect("an end").expect_err("timed out");
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(2),
            "counted from when the wait began"
        );
        assert!(timed_out(stalled.as_ref()), "{stalled}");
        sender.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_joined_connection_closes_once_idle_but_not_while_bytes_move() {
        let (client, mut client_end) = tokio::io::duplex(64);
        let (app, mut app_end) = tokio::io::duplex(64);
        let joined = tokio::spawn(join(client, app, Duration::from_secs(2)));
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            client_end.write_all(b"ping").await.expect("write");
            let mut got = [0u8; 4];
            app_end.read_exact(&mut got).await.expect("read");
            assert_eq!(&got, b"ping");
        }
        assert!(!joined.is_finished(), "bytes kept moving, so it stays open");
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(joined.is_finished(), "idle for 3 s of 2: closed");
        let mut rest = Vec::new();
        assert_eq!(client_end.read_to_end(&mut rest).await.expect("eof"), 0);
    }
}
