//! The server: hyper's HTTP/1.1 on a tokio runtime of one thread, one small task per connection.
//!
//! Each connection's task reads the request head, sleeps for the login's delay and writes the
//! reply, then closes the connection (no keep-alive: see [`crate::protocol`]). A sleeping task
//! is a timer entry and a few kilobytes of buffers, not a thread, so the server holds tens of
//! thousands of waiting connections on one thread.

use crate::config::{Config, Fate};
use crate::protocol::{self, MAX_BODY_BYTES, MAX_HEAD_BYTES};
use crate::{client, system};
use anyhow::{Context, bail};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::convert::Infallible;
use std::future::Future;
use std::io::{BufRead, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Semaphore;

/// A connection that has not sent a whole request head within this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server has seen since it started, or since the last `POST /stats/reset`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub connections_accepted: u64,
    /// Connections open right now, not counting the one that asked for these stats.
    pub open_connections: u64,
    /// The most connections open at the same moment (all kinds, stats requests included).
    pub peak_open_connections: u64,
    /// `GET /users/{login}` requests received.
    pub user_requests: u64,
    /// Different logins among them: equal to `user_requests` when no login was asked twice.
    pub distinct_logins: u64,
    pub records_sent: u64,
    /// `503` replies sent (injected errors).
    pub errors_sent: u64,
    /// Requests left hanging (injected timeouts).
    pub hangs: u64,
    /// Requests that waited for a free slot under `max_in_flight`.
    pub queued_for_limit: u64,
    /// Requests refused: malformed (400), unknown path (404), wrong method (405), a head or
    /// body too large (431, 413).
    pub bad_requests: u64,
    /// Connections the kernel had ready but the server could not accept (out of file
    /// descriptors); it retries a moment later.
    pub accept_errors: u64,
}

struct State {
    config: Config,
    limit: Option<Semaphore>,
    counters: Mutex<Counters>,
    /// HTTPS instead of HTTP: the TLS handshake comes first on every connection.
    tls: Option<tokio_rustls::TlsAcceptor>,
}

#[derive(Default)]
struct Counters {
    stats: Stats,
    logins: HashSet<String>,
}

impl State {
    fn new(config: Config) -> Self {
        State {
            limit: config.max_in_flight.map(Semaphore::new),
            config,
            counters: Mutex::new(Counters::default()),
            tls: None,
        }
    }

    fn counters(&self) -> MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stats(&self) -> Stats {
        self.counters().stats.clone()
    }

    fn reset(&self) {
        let mut counters = self.counters();
        let open = counters.stats.open_connections;
        counters.stats = Stats {
            open_connections: open,
            peak_open_connections: open,
            ..Stats::default()
        };
        counters.logins.clear();
    }
}

/// Counts a connection as open for as long as it lives, also when its task is cancelled.
struct OpenConnection(Arc<State>);

impl OpenConnection {
    fn new(state: &Arc<State>) -> Self {
        let mut counters = state.counters();
        counters.stats.connections_accepted += 1;
        counters.stats.open_connections += 1;
        counters.stats.peak_open_connections = counters
            .stats
            .peak_open_connections
            .max(counters.stats.open_connections);
        OpenConnection(Arc::clone(state))
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let mut counters = self.0.counters();
        counters.stats.open_connections = counters.stats.open_connections.saturating_sub(1);
    }
}

/// Binds `127.0.0.1` on `port` (0: a port the OS picks). Call inside a tokio runtime.
fn bind(config: &Config, port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    socket.listen(config.backlog)
}

/// Accepts connections until `stop` completes, one task per connection. Returning drops the
/// listener, which closes the port; dropping the runtime afterwards cancels every connection
/// still waiting.
async fn serve(listener: TcpListener, state: Arc<State>, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let open = OpenConnection::new(&state);
                    tokio::spawn(handle_connection(stream, open));
                }
                Err(_) => {
                    // Usually out of file descriptors: wait for some connections to close.
                    state.counters().stats.accept_errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
}

/// One connection: hyper reads the head (at most `MAX_HEAD_BYTES`), calls [`answer`], writes
/// the reply with `Connection: close`, and closes.
async fn handle_connection(stream: TcpStream, open: OpenConnection) {
    let served = match &open.0.tls {
        None => serve_http(TokioIo::new(stream), &open.0).await,
        Some(tls) => match tokio::time::timeout(IDLE_TIMEOUT, tls.accept(stream)).await {
            Ok(Ok(stream)) => serve_http(TokioIo::new(stream), &open.0).await,
            // A failed handshake is the client's business (it says why on its side).
            _ => Ok(()),
        },
    };
    // hyper answered a malformed or oversized head itself (400, 431): count it.
    if let Err(error) = served
        && (error.is_parse() || error.is_parse_too_large())
    {
        open.0.counters().stats.bad_requests += 1;
    }
    drop(open);
}

async fn serve_http<T>(io: T, state: &Arc<State>) -> hyper::Result<()>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let state = Arc::clone(state);
    let service = hyper::service::service_fn(move |request| answer(Arc::clone(&state), request));
    hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .max_buf_size(MAX_HEAD_BYTES)
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT)
        .serve_connection(io, service)
        .await
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut reply = Response::new(Full::new(body.into()));
    *reply.status_mut() = status;
    let headers = reply.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::SERVER, HeaderValue::from_static("slowserver"));
    reply
}

fn json(status: StatusCode, value: &impl Serialize) -> Reply {
    // Serializing plain strings and numbers cannot fail.
    let body = serde_json::to_vec(value).unwrap_or_default();
    reply(status, "application/json; charset=utf-8", body)
}

/// A refusal, counted as a bad request: `400`, `404`, `405`, `413`.
fn refuse(state: &State, status: StatusCode, why: &'static str) -> Reply {
    state.counters().stats.bad_requests += 1;
    reply(status, "text/plain; charset=utf-8", format!("{why}\n"))
}

/// Routes one request (see the table in [`crate::protocol`]).
async fn answer(state: Arc<State>, request: Request<Incoming>) -> Result<Reply, Infallible> {
    let declared_body = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.trim().parse::<u64>().ok())
        .unwrap_or(0);
    // Bodies are never read: one too large to ignore, or of unknown length, is refused.
    if declared_body > MAX_BODY_BYTES || request.headers().contains_key(header::TRANSFER_ENCODING) {
        return Ok(refuse(
            &state,
            StatusCode::PAYLOAD_TOO_LARGE,
            "this server reads no request bodies",
        ));
    }
    let path = request.uri().path();
    let reply = match (request.method(), path) {
        (&Method::GET, "/stats") => {
            let mut stats = state.stats();
            stats.open_connections = stats.open_connections.saturating_sub(1);
            json(StatusCode::OK, &stats)
        }
        (&Method::POST, "/stats/reset") => {
            state.reset();
            json(StatusCode::OK, &serde_json::json!({ "reset": true }))
        }
        (&Method::GET, _) if let Some(login) = path.strip_prefix("/users/") => {
            if protocol::is_valid_login(login) {
                answer_user(&state, login.to_string()).await
            } else {
                refuse(
                    &state,
                    StatusCode::BAD_REQUEST,
                    "a login is 1 to 64 letters, digits, '_', '-' or '.'",
                )
            }
        }
        (_, "/stats" | "/stats/reset") => refuse(&state, StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        (_, _) if path.starts_with("/users/") => refuse(&state, StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        _ => refuse(&state, StatusCode::NOT_FOUND, "not found: try /users/{login} or /stats"),
    };
    Ok(reply)
}

async fn answer_user(state: &Arc<State>, login: String) -> Reply {
    let plan = state.config.plan(&login);
    {
        let mut counters = state.counters();
        counters.stats.user_requests += 1;
        if counters.logins.insert(login.clone()) {
            counters.stats.distinct_logins += 1;
        }
        if plan.fate == Fate::Hang {
            counters.stats.hangs += 1;
        }
    }
    if plan.fate == Fate::Hang {
        // A hung request holds no slot: it is lost, not being worked on.
        tokio::time::sleep(state.config.hang).await;
        return json(StatusCode::OK, &state.config.record(&login));
    }
    // At most `max_in_flight` requests are worked on at once; the rest wait here for a slot.
    let _slot = match &state.limit {
        Some(limit) => {
            if limit.available_permits() == 0 {
                state.counters().stats.queued_for_limit += 1;
            }
            limit.acquire().await.ok()
        }
        None => None,
    };
    tokio::time::sleep(plan.delay).await;
    let mut counters = state.counters();
    if plan.fate == Fate::Error {
        counters.stats.errors_sent += 1;
        reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            "service unavailable\n",
        )
    } else {
        counters.stats.records_sent += 1;
        json(StatusCode::OK, &state.config.record(&login))
    }
}

/// A tokio runtime on the calling thread, with its I/O, timers and signals. A runtime opens
/// a few files (its epoll, a waker; in the first runtime of a process, tokio's signal sockets
/// and a copy of one), and tokio panics when the open-file limit leaves no room for the signal
/// sockets: room for six files is checked first, so that a stingy limit is an error (EMFILE)
/// and never a panic.
pub fn current_thread_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let room: std::io::Result<Vec<_>> = (0..3).map(|_| std::os::unix::net::UnixStream::pair()).collect();
    drop(room?);
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// The server on a background thread of this process. For tests, and for programs that do not
/// mind sharing their CPU time and file descriptors with it; a lesson uses [`ServerProcess`].
pub struct Server {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts serving; returns once the port is listening.
    pub fn start(config: Config) -> std::io::Result<Server> {
        Server::start_with(config, None)
    }

    /// Starts serving HTTPS with this certificate chain and private key (PEM), for tests of
    /// the clients' TLS: a client must trust the chain's authority to get an answer.
    pub fn start_tls(config: Config, certificate_pem: &str, key_pem: &str) -> std::io::Result<Server> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let invalid = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
        let chain = CertificateDer::pem_slice_iter(certificate_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("the certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| invalid(format!("the key: {e}")))?;
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| invalid(format!("TLS: {e}")))?;
        Server::start_with(config, Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls))))
    }

    fn start_with(config: Config, tls: Option<tokio_rustls::TlsAcceptor>) -> std::io::Result<Server> {
        config
            .validate()
            .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
        let runtime = current_thread_runtime()?;
        let listener = runtime.block_on(async { bind(&config, 0) })?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            tls,
            ..State::new(config)
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("slowserver".to_string())
            .spawn(move || {
                // Stops when told to, or when the `Server` is dropped (the sender goes away).
                runtime.block_on(serve(listener, serving, async {
                    let _ = stopped.await;
                }));
                drop(runtime);
            })?;
        Ok(Server {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where to connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    pub fn reset_stats(&self) {
        self.state.reset();
    }

    /// Stops accepting, closes the port and every connection, joins the thread, and returns
    /// the final figures.
    pub fn stop(mut self) -> Stats {
        self.shut_down();
        self.state.stats()
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The server in a child process of its own. Its sockets, threads and CPU time are not the
/// lesson's, so that what a lesson measures is its clients alone, and the open-file limit of
/// each process has to hold only one side of every connection.
///
/// The child is started with `course::children::fork`, so it is killed if the lesson is
/// interrupted, and dies with the lesson in any case. [`ServerProcess::stop`] ends it cleanly:
/// SIGTERM, the server closes its port and its connections and exits, the lesson reaps it.
pub struct ServerProcess {
    pid: Pid,
    addr: SocketAddr,
    config: Config,
    running: bool,
}

impl ServerProcess {
    /// Forks the server process and waits until it listens. Like every fork in the course,
    /// only while this process has a single thread (checked).
    pub fn start(config: &Config) -> anyhow::Result<ServerProcess> {
        config.validate().map_err(anyhow::Error::msg)?;
        let (ready_read, ready_write) = nix::unistd::pipe().context("could not create a pipe for the server")?;
        let child_config = config.clone();
        // The closure owns the pipe's write end: in this process it is dropped (closed) when
        // `fork` returns, so if the child dies before it is ready, the read below sees the end.
        let pid = course::children::fork(move || serve_in_this_process(child_config, ready_write))?;
        let mut line = String::new();
        let read = std::io::BufReader::new(std::fs::File::from(ready_read)).read_line(&mut line);
        let addr = match line.trim().strip_prefix("ready ").map(str::parse::<SocketAddr>) {
            Some(Ok(addr)) if read.is_ok() => addr,
            _ => {
                let _ = kill(pid, Signal::SIGKILL);
                let _ = course::children::wait(pid);
                let why = line
                    .trim()
                    .strip_prefix("error ")
                    .unwrap_or("it exited before listening");
                bail!("the server process could not start: {why}");
            }
        };
        Ok(ServerProcess {
            pid,
            addr,
            config: config.clone(),
            running: true,
        })
    }

    /// Where to connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn pid(&self) -> Pid {
        self.pid
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Asks the server for its figures (`GET /stats`).
    pub fn stats(&self) -> anyhow::Result<Stats> {
        client::stats(self.addr).context("asking the server for its figures")
    }

    /// Zeroes the server's counters (`POST /stats/reset`), to measure the next run alone.
    pub fn reset_stats(&self) -> anyhow::Result<()> {
        client::reset_stats(self.addr).context("resetting the server's figures")?;
        Ok(())
    }

    /// Asks for the final figures, then stops the server (SIGTERM) and reaps it. Fails if it
    /// did not exit cleanly.
    pub fn stop(mut self) -> anyhow::Result<Stats> {
        let stats = self.stats();
        self.running = false;
        kill(self.pid, Signal::SIGTERM).context("could not signal the server process")?;
        match course::children::wait(self.pid).context("could not reap the server process")? {
            WaitStatus::Exited(_, 0) => stats,
            other => bail!("the server process ended with {other:?}"),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.running {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = course::children::wait(self.pid);
        }
    }
}

/// The child's whole life: listen, say where, serve until SIGTERM. Returns the exit status.
fn serve_in_this_process(config: Config, ready_write: OwnedFd) -> i32 {
    let mut ready = std::fs::File::from(ready_write);
    // Every connection costs the server a file descriptor: allow as many as the OS permits.
    let _ = system::raise_open_file_limit();
    let started = current_thread_runtime().and_then(|runtime| {
        let (listener, terminate) = runtime.block_on(async {
            // Listen for SIGTERM before saying "ready", so that no stop request can be missed.
            let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            Ok::<_, std::io::Error>((bind(&config, 0)?, terminate))
        })?;
        Ok((runtime, listener, terminate))
    });
    let (runtime, listener, mut terminate) = match started {
        Ok(started) => started,
        Err(error) => {
            // A refusal names the limit behind it, as this process sees it.
            let limit = error
                .raw_os_error()
                .and_then(course::limits::explain_errno)
                .map_or(String::new(), |limit| format!("; {limit}"));
            let _ = writeln!(ready, "error {error}{limit}");
            return 1;
        }
    };
    let Ok(addr) = listener.local_addr() else {
        let _ = writeln!(ready, "error the listening socket has no address");
        return 1;
    };
    if writeln!(ready, "ready {addr}").is_err() {
        return 1; // the lesson is gone
    }
    drop(ready);
    let state = Arc::new(State::new(config));
    runtime.block_on(serve(listener, state, async move {
        terminate.recv().await;
    }));
    drop(runtime);
    0
}

/// The server in the foreground of this process, for `cargo run -p slowserver`: binds
/// `127.0.0.1:port` (0: a port the OS picks), calls `ready` with the address, and serves until
/// SIGINT (Ctrl-C) or SIGTERM. Returns the final figures; the port is closed on return.
pub fn serve_in_foreground(config: Config, port: u16, ready: impl FnOnce(SocketAddr)) -> anyhow::Result<Stats> {
    config.validate().map_err(anyhow::Error::msg)?;
    let runtime = current_thread_runtime().context("could not start the server's event loop")?;
    let state = Arc::new(State::new(config));
    let serving = Arc::clone(&state);
    runtime.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("could not listen for Ctrl-C")?;
        let mut terminate = signal(SignalKind::terminate()).context("could not listen for SIGTERM")?;
        let listener = bind(&serving.config, port).with_context(|| format!("could not listen on 127.0.0.1:{port}"))?;
        ready(listener.local_addr()?);
        serve(listener, serving, async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
        .await;
        anyhow::Ok(())
    })?;
    // Dropping the runtime closes every connection still waiting.
    drop(runtime);
    Ok(state.stats())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Connection, fetch_user};
    use crate::protocol::FetchError;
    use std::time::Instant;

    fn quick_config() -> Config {
        Config {
            delay: Duration::from_millis(5),
            ..Config::default()
        }
    }

    /// Polls `ready` until it holds, for up to a minute (a loaded machine is slow, not wrong).
    fn eventually(mut ready: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if ready() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn a_record_comes_back_and_matches_the_plan() {
        let config = quick_config();
        let server = Server::start(config.clone()).unwrap();
        let record = fetch_user(server.addr(), "ada", Duration::from_secs(10)).unwrap();
        assert_eq!(record, config.record("ada"));
        let stats = server.stop();
        assert_eq!(stats.user_requests, 1);
        assert_eq!(stats.records_sent, 1);
        assert_eq!(stats.open_connections, 0);
    }

    #[test]
    fn injected_errors_and_hangs_reach_the_client() {
        let errors = Server::start(Config {
            error_rate: 1.0,
            ..quick_config()
        })
        .unwrap();
        let failed = fetch_user(errors.addr(), "bob", Duration::from_secs(10)).unwrap_err();
        assert!(failed.is_server_error(), "{failed:?}");
        assert_eq!(errors.stop().errors_sent, 1);

        let hangs = Server::start(Config {
            timeout_rate: 1.0,
            ..quick_config()
        })
        .unwrap();
        let failed = fetch_user(hangs.addr(), "carol", Duration::from_millis(100)).unwrap_err();
        assert_eq!(
            failed,
            FetchError::TimedOut {
                after: Duration::from_millis(100)
            }
        );
        assert_eq!(hangs.stop().hangs, 1);
    }

    /// Sends `bytes` on a connection of its own; the status of the reply.
    fn status_of(server: &Server, bytes: &[u8]) -> u16 {
        let mut connection = Connection::open(server.addr(), Duration::from_secs(10)).unwrap();
        connection.send_raw(bytes).unwrap();
        let reply = connection.receive_reply().unwrap();
        protocol::split_reply(&reply).unwrap().0
    }

    #[test]
    fn bad_requests_are_refused_and_counted() {
        let server = Server::start(quick_config()).unwrap();
        let big_head = format!("GET /users/ada HTTP/1.1\r\nX-Big: {}\r\n\r\n", "x".repeat(10_000));
        let cases: [(&[u8], u16); 6] = [
            (b"GET /users/../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404),
            (b"DELETE /users/ada HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            (
                b"GET /users/ada HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
                413,
            ),
            (b"this is not HTTP\r\n\r\n", 400),
            (big_head.as_bytes(), 431),
        ];
        for (bytes, status) in cases {
            assert_eq!(
                status_of(&server, bytes),
                status,
                "{}",
                String::from_utf8_lossy(&bytes[..30])
            );
        }
        let stats = client::stats(server.addr()).unwrap();
        assert_eq!(stats.bad_requests, 6);
        assert_eq!(stats.user_requests, 0);
    }

    #[test]
    fn every_reply_closes_its_connection() {
        let server = Server::start(quick_config()).unwrap();
        let mut connection = Connection::open(server.addr(), Duration::from_secs(10)).unwrap();
        // Two requests on one connection: the server answers the first and closes.
        let twice = format!("{}{}", protocol::user_request("ada"), protocol::user_request("bob"));
        connection.send_raw(twice.as_bytes()).unwrap();
        let reply = connection.receive_reply().unwrap();
        assert!(reply.to_ascii_lowercase().contains("connection: close"), "{reply}");
        assert_eq!(protocol::parse_reply(&reply).unwrap().login, "ada");
        assert_eq!(server.stop().user_requests, 1);
    }

    #[test]
    fn https_is_answered_to_clients_that_trust_the_certificate_and_only_to_them() {
        use crate::client::{AsyncClient, Trust, blocking_client, fetch_blocking};
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let config = quick_config();
        let server = Server::start_tls(
            config.clone(),
            &generated.cert.pem(),
            &generated.signing_key.serialize_pem(),
        )
        .unwrap();
        let url = format!("https://localhost:{}/users/ada", server.addr().port());
        let trusted = Trust::Only(Arc::new(vec![generated.cert.der().clone()]));
        let timeout = Duration::from_secs(10);
        assert_eq!(
            fetch_blocking(&blocking_client(timeout, &trusted), &url, timeout),
            Ok(config.record("ada"))
        );
        let refused = fetch_blocking(&blocking_client(timeout, &Trust::WebPki), &url, timeout).unwrap_err();
        assert!(matches!(refused, FetchError::Connect(_)), "{refused:?}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = AsyncClient::new(&trusted).unwrap();
        assert_eq!(runtime.block_on(client.fetch(&url)), Ok(config.record("ada")));
        let untrusting = AsyncClient::new(&Trust::WebPki).unwrap();
        assert!(matches!(
            runtime.block_on(untrusting.fetch(&url)),
            Err(FetchError::Connect(_))
        ));
        assert_eq!(server.stop().records_sent, 2);
    }

    #[test]
    fn the_async_client_gets_the_same_record() {
        let config = quick_config();
        let server = Server::start(config.clone()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let record = runtime
            .block_on(crate::client::fetch_user_async(server.addr(), "eve"))
            .unwrap();
        assert_eq!(record, config.record("eve"));
        assert_eq!(server.stop().open_connections, 0);
    }

    #[test]
    fn many_waiting_connections_are_held_at_once_on_one_thread() {
        // Every request hangs, so all of them are open together however slow the machine is.
        const CLIENTS: usize = 300;
        let server = Server::start(Config {
            timeout_rate: 1.0,
            ..quick_config()
        })
        .unwrap();
        let addr = server.addr();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| std::thread::spawn(move || fetch_user(addr, &format!("user{i}"), Duration::from_secs(120))))
            .collect();
        assert!(eventually(|| server.stats().user_requests == CLIENTS as u64));
        let stats = server.stats();
        assert_eq!(stats.open_connections, CLIENTS as u64);
        assert_eq!(stats.peak_open_connections, CLIENTS as u64);
        assert_eq!(stats.distinct_logins, CLIENTS as u64);
        // Stopping the server closes every connection: each client hears about it at once.
        let port = addr.port();
        let stats = server.stop();
        assert_eq!(stats.open_connections, 0);
        for client in clients {
            let result = client.join().unwrap();
            assert!(result.is_err(), "{result:?}");
        }
        if let Some(listening) = system::is_listening(port) {
            assert!(!listening, "the port is still listening after stop");
        }
    }

    #[test]
    fn the_limit_queues_requests_beyond_it() {
        let server = Server::start(Config {
            delay: Duration::from_millis(50),
            max_in_flight: Some(2),
            ..Config::default()
        })
        .unwrap();
        let addr = server.addr();
        let clients: Vec<_> = (0..6)
            .map(|i| std::thread::spawn(move || fetch_user(addr, &format!("u{i}"), Duration::from_secs(60))))
            .collect();
        for client in clients {
            assert!(client.join().unwrap().is_ok());
        }
        let stats = server.stop();
        assert_eq!(stats.records_sent, 6);
        assert!(stats.queued_for_limit >= 1, "{stats:?}");
    }

    #[test]
    fn reset_zeroes_the_counters() {
        let server = Server::start(quick_config()).unwrap();
        fetch_user(server.addr(), "dave", Duration::from_secs(10)).unwrap();
        fetch_user(server.addr(), "dave", Duration::from_secs(10)).unwrap();
        let stats = server.stats();
        assert_eq!((stats.user_requests, stats.distinct_logins), (2, 1));
        client::reset_stats(server.addr()).unwrap();
        let stats = server.stats();
        assert_eq!(
            (stats.user_requests, stats.distinct_logins, stats.records_sent),
            (0, 0, 0)
        );
    }

    #[test]
    fn bad_configs_are_refused() {
        let error = Server::start(Config {
            error_rate: 2.0,
            ..Config::default()
        })
        .err()
        .unwrap();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    }
}
