//! The server: one tokio runtime on one thread, one small task per connection.
//!
//! Each connection's task reads the request line, sleeps for the login's delay and writes the
//! reply. A sleeping task is a timer entry and a few hundred bytes of state, not a thread, so
//! the server holds tens of thousands of waiting connections on one thread.

use crate::config::{Config, Fate};
use crate::protocol::{self, MAX_REQUEST_BYTES, Request};
use crate::{client, system};
use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::future::Future;
use std::io::{BufRead, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Semaphore;

/// A connection that sends nothing for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server has seen since it started, or since the last `RESET stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub connections_accepted: u64,
    /// Connections open right now, not counting the one that asked for these stats.
    pub open_connections: u64,
    /// The most connections open at the same moment (all kinds, stats requests included).
    pub peak_open_connections: u64,
    /// `GET user` requests received.
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
    pub bad_requests: u64,
    /// Connections the kernel had ready but the server could not accept (out of file
    /// descriptors); it retries a moment later.
    pub accept_errors: u64,
}

struct State {
    config: Config,
    limit: Option<Semaphore>,
    counters: Mutex<Counters>,
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

/// Binds `127.0.0.1` on a port the OS picks. Call inside a tokio runtime.
fn bind(config: &Config) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
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

async fn handle_connection(mut stream: TcpStream, open: OpenConnection) {
    let state = Arc::clone(&open.0);
    let request = match tokio::time::timeout(IDLE_TIMEOUT, read_request_line(&mut stream)).await {
        Ok(Some(line)) => protocol::parse_request(&line),
        _ => return,
    };
    let reply = match request {
        Request::User(login) => answer_user(&state, login).await,
        Request::Stats => {
            let mut stats = state.stats();
            stats.open_connections = stats.open_connections.saturating_sub(1);
            format!("200 {}\n", serde_json::to_string(&stats).unwrap_or_default())
        }
        Request::ResetStats => {
            state.reset();
            "200 {\"reset\":true}\n".to_string()
        }
        Request::Bad => {
            state.counters().stats.bad_requests += 1;
            protocol::error_reply(400, "bad request")
        }
    };
    // The client may have given up (timed out) already: then there is nobody to tell.
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
    drop(open);
}

/// Reads up to the first newline; `None` if the client closed first.
async fn read_request_line(stream: &mut TcpStream) -> Option<String> {
    // A small fixed buffer: ten thousand waiting connections cost ten thousand of these.
    let mut buffer = [0u8; MAX_REQUEST_BYTES];
    let mut filled = 0;
    loop {
        let read = stream.read(&mut buffer[filled..]).await.ok()?;
        if read == 0 {
            return None;
        }
        filled += read;
        if let Some(end) = buffer[..filled].iter().position(|&b| b == b'\n') {
            return Some(String::from_utf8_lossy(&buffer[..end]).into_owned());
        }
        if filled == buffer.len() {
            return Some(String::new()); // too long: a bad request
        }
    }
}

async fn answer_user(state: &Arc<State>, login: String) -> String {
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
        return protocol::record_reply(&state.config.record(&login));
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
        protocol::error_reply(503, "service unavailable")
    } else {
        counters.stats.records_sent += 1;
        protocol::record_reply(&state.config.record(&login))
    }
}

fn current_thread_runtime() -> std::io::Result<tokio::runtime::Runtime> {
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
        config
            .validate()
            .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
        let runtime = current_thread_runtime()?;
        let listener = runtime.block_on(async { bind(&config) })?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(config));
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

    /// Asks the server for its figures (`GET stats`).
    pub fn stats(&self) -> anyhow::Result<Stats> {
        let reply = client::control(self.addr, "GET stats").context("asking the server for its figures")?;
        let (_, body) = protocol::split_reply(&reply)?;
        serde_json::from_str(body).context("the server's figures did not parse")
    }

    /// Zeroes the server's counters (`RESET stats`), to measure the next run alone.
    pub fn reset_stats(&self) -> anyhow::Result<()> {
        client::control(self.addr, "RESET stats").context("resetting the server's figures")?;
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
            Ok::<_, std::io::Error>((bind(&config)?, terminate))
        })?;
        Ok((runtime, listener, terminate))
    });
    let (runtime, listener, mut terminate) = match started {
        Ok(started) => started,
        Err(error) => {
            let _ = writeln!(ready, "error {error}");
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

    #[test]
    fn bad_requests_get_400() {
        let server = Server::start(quick_config()).unwrap();
        let mut connection = Connection::open(server.addr(), Duration::from_secs(10)).unwrap();
        connection.send_line("GET user ../etc/passwd").unwrap();
        assert!(connection.receive_reply().unwrap().starts_with("400 "));
        let reply = client::control(server.addr(), "GET stats").unwrap();
        let (status, body) = protocol::split_reply(&reply).unwrap();
        assert_eq!(status, 200);
        let stats: Stats = serde_json::from_str(body).unwrap();
        assert_eq!(stats.bad_requests, 1);
        assert_eq!(stats.user_requests, 0);
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
        client::control(server.addr(), "RESET stats").unwrap();
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
