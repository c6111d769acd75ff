//! Accepting connections and serving HTTP/1.1 on them, with bounds on what one connection
//! and one client may hold.
//!
//! Why not `axum::serve`: it has no deadline for reading a request and no limit per client,
//! so a thousand connections that send a header and then nothing each live for ever. Here:
//!
//! - **Per client**: at most [`EdgeSettings::max_connections_per_client`] connections open
//!   from one address (a trusted proxy carries many clients and is exempt; nginx limits
//!   those), and [`EdgeSettings::max_connections`] in all. A connection past either gets
//!   an immediate 503 and is closed.
//! - **Per connection**: a watchdog follows the connection through three phases. *Idle*
//!   (waiting for a request): closed gracefully after `idle_timeout`. *Head* (the first
//!   byte of a request has arrived, the head is not complete): closed after
//!   `header_timeout`. *Busy* (a handler has the request): the body's own deadline applies
//!   in [`crate::overload`], and the handler's answer is awaited.
//! - **Shutdown**: no new connections; open ones finish their request and close; whatever
//!   is still open after [`SHUTDOWN_GRACE`] is dropped.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use super::{EdgeSettings, Peer};

/// How long open connections get to finish when the service stops.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Serves `app` on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    edge: Arc<EdgeSettings>,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let open = Arc::new(OpenConnections::default());
    let stopping = stop.clone();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match open.admit(peer.ip(), &edge) {
                    Some(slot) => {
                        let conn = Connection { app: app.clone(), edge: edge.clone(), peer, _slot: slot };
                        connections.spawn(conn.serve(stream, stopping.clone()));
                    }
                    None => {
                        connections.spawn(refuse(stream));
                    }
                },
                // Out of file descriptors or a connection reset before accept: wait a
                // moment rather than spin, and go on.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stopped(&mut stop) => break,
        }
    }
    drop(listener);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        tracing::warn!(
            left = connections.len(),
            "connections still open at shutdown: closed"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Resolves once the service is stopping.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Answers a connection that is over a limit: 503 with Retry-After, then close. The request
/// head is read first (for at most a second and 16 KiB), so that the client reads the answer
/// as the answer to its request rather than as a broken connection.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = r#"{"type":"urn:propusk:problem:too_many_connections","title":"Service Unavailable","status":503,"code":"too_many_connections","detail":"Too many connections from your address. Retry in a few seconds.","retry_after_s":5}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 5\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut head = Vec::with_capacity(1024);
        let mut buf = [0u8; 1024];
        while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// Open connections, per client address and in all.
#[derive(Default)]
struct OpenConnections {
    per_client: Mutex<HashMap<IpAddr, usize>>,
    total: AtomicUsize,
}

/// A connection's place in [`OpenConnections`], given back when it closes.
struct Slot {
    open: Arc<OpenConnections>,
    client: Option<IpAddr>,
}

impl OpenConnections {
    fn admit(self: &Arc<Self>, peer: IpAddr, edge: &EdgeSettings) -> Option<Slot> {
        if self.total.fetch_add(1, Ordering::AcqRel) >= edge.max_connections {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let client = (!edge.is_trusted_proxy(peer)).then_some(peer);
        if let Some(ip) = client {
            let mut per_client = self.per_client.lock().unwrap_or_else(|p| p.into_inner());
            let count = per_client.entry(ip).or_insert(0);
            if *count >= edge.max_connections_per_client {
                drop(per_client);
                self.total.fetch_sub(1, Ordering::AcqRel);
                return None;
            }
            *count += 1;
        }
        Some(Slot {
            open: self.clone(),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.total.fetch_sub(1, Ordering::AcqRel);
        if let Some(ip) = self.client {
            let mut per_client = self
                .open
                .per_client
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(count) = per_client.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    per_client.remove(&ip);
                }
            }
        }
    }
}

struct Connection {
    app: Router,
    edge: Arc<EdgeSettings>,
    peer: SocketAddr,
    _slot: Slot,
}

enum Expired {
    Idle,
    Head,
}

impl Connection {
    async fn serve(self, stream: TcpStream, mut stop: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        let phase = Arc::new(Phase::new());
        let io = TokioIo::new(Watched {
            inner: stream,
            phase: phase.clone(),
        });
        let (app, peer, handler_phase) = (self.app.clone(), self.peer, phase.clone());
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            handler_phase.set(State::Busy);
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(Peer(peer));
            let (app, phase) = (app.clone(), handler_phase.clone());
            async move {
                let response = app.oneshot(request).await;
                phase.set(State::Idle);
                response
            }
        });
        let mut builder = http1::Builder::new();
        builder.keep_alive(true).max_buf_size(64 * 1024);
        let conn = builder.serve_connection(io, service);
        tokio::pin!(conn);
        let mut closing = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, peer = %self.peer, "connection ended with an error");
                    }
                    return;
                }
                expired = phase.expired(&self.edge) => match expired {
                    Expired::Idle if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    // A head that never completes, or an idle connection that does not
                    // close when asked: drop it.
                    _ => return,
                },
                _ = stopped(&mut stop), if !closing => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Idle = 0,
    Head = 1,
    Busy = 2,
}

/// A connection's phase and since when, in one atomic word (the state in the top two bits,
/// milliseconds since the connection opened below), so that both are always read together.
struct Phase {
    opened: Instant,
    word: AtomicU64,
}

const STATE_SHIFT: u32 = 62;

impl Phase {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            word: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX >> 2)
    }

    fn set(&self, state: State) {
        let word = ((state as u64) << STATE_SHIFT) | self.now_ms();
        self.word.store(word, Ordering::Release);
    }

    /// Bytes arrived: if the connection was idle, a request head has begun.
    fn bytes_arrived(&self) {
        let idle = self.word.load(Ordering::Acquire);
        if idle >> STATE_SHIFT == State::Idle as u64 {
            let head = ((State::Head as u64) << STATE_SHIFT) | self.now_ms();
            let _ = self
                .word
                .compare_exchange(idle, head, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    fn get(&self) -> (State, Instant) {
        let word = self.word.load(Ordering::Acquire);
        let state = match word >> STATE_SHIFT {
            0 => State::Idle,
            1 => State::Head,
            _ => State::Busy,
        };
        let since = self.opened + Duration::from_millis(word & ((1 << STATE_SHIFT) - 1));
        (state, since)
    }

    /// Resolves when the connection has stayed idle, or in a request head, too long.
    async fn expired(&self, edge: &EdgeSettings) -> Expired {
        loop {
            let (state, since) = self.get();
            let (limit, expired) = match state {
                State::Idle => (edge.idle_timeout, Expired::Idle),
                State::Head => (edge.header_timeout, Expired::Head),
                State::Busy => {
                    // The body and the handler have deadlines of their own; look again later.
                    tokio::time::sleep(edge.header_timeout).await;
                    continue;
                }
            };
            let deadline = since + limit;
            if Instant::now() >= deadline {
                return expired;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// The TCP stream, telling [`Phase`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    phase: Arc<Phase>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.phase.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
