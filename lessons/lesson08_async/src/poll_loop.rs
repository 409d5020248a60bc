//! What an event loop does, by hand: one thread, many non-blocking sockets, and `poll`.
//!
//! A non-blocking socket never makes the thread wait: a read with nothing to read returns
//! "would block" at once. So the loop keeps, for every connection, how far it has got (a small
//! state machine: connecting, sending, receiving), asks the kernel with one `poll` call which
//! sockets can make progress, sleeps until at least one can, does the little work each ready
//! socket allows, and asks again. tokio does the same with `epoll` (which does not rescan every
//! socket on every call), timers and a queue of tasks; an `async fn` is such a state machine,
//! written for you by the compiler.

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, connect, getsockopt, socket, sockopt};
use slowserver::{FetchError, UserRecord, protocol};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

/// Where one connection has got to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// `connect` returned "in progress": writable means the handshake finished.
    Connecting,
    /// Writing the request; `sent` bytes are out.
    Sending { sent: usize },
    /// Reading the reply until the server closes the connection.
    Receiving,
}

impl Step {
    /// What to wait for: writable to connect or send, readable to receive.
    fn interest(self) -> PollFlags {
        match self {
            Step::Connecting | Step::Sending { .. } => PollFlags::POLLOUT,
            Step::Receiving => PollFlags::POLLIN,
        }
    }
}

/// One connection in progress.
struct Pending {
    index: usize,
    socket: TcpStream,
    step: Step,
    request: Vec<u8>,
    reply: Vec<u8>,
    started: Instant,
}

/// What the loop did.
#[derive(Debug, Default)]
pub struct LoopReport {
    /// Each login's outcome, in login order.
    pub results: Vec<Option<Result<UserRecord, FetchError>>>,
    /// Each login's time from connect to complete reply, in login order.
    pub response_times: Vec<Duration>,
    /// How often the loop asked the kernel (`poll` calls).
    pub poll_calls: u64,
    /// Socket readiness events handled.
    pub events: u64,
    /// The most connections open at once.
    pub most_open: usize,
    /// The first steps of the loop, in words (when asked for).
    pub trace: Vec<String>,
}

/// Fetches every login's record on this one thread, with non-blocking sockets and `poll`.
/// At most `wave` connections are being opened at any moment; `trace_lines` lines of trace are
/// kept.
pub fn fetch_all_with_poll(
    server: SocketAddrV4,
    logins: &[String],
    wave: usize,
    trace_lines: usize,
) -> anyhow::Result<LoopReport> {
    let mut report = LoopReport {
        results: vec![None; logins.len()],
        response_times: vec![Duration::ZERO; logins.len()],
        ..LoopReport::default()
    };
    let mut trace = Trace::new(trace_lines);
    let mut open: Vec<Pending> = Vec::new();
    let mut next_login = 0;
    let mut last_progress = Instant::now();
    loop {
        // 1. Start connections, a wave at a time, without waiting for any of them.
        let connecting = open.iter().filter(|p| p.step == Step::Connecting).count();
        for _ in connecting..wave {
            if next_login == logins.len() {
                break;
            }
            let login = &logins[next_login];
            match start_connecting(server) {
                Ok(socket) => {
                    trace.line(|| format!("#{} connect to {server} started (in progress)", next_login + 1));
                    open.push(Pending {
                        index: next_login,
                        socket,
                        step: Step::Connecting,
                        request: protocol::user_request(login).into_bytes(),
                        reply: Vec::with_capacity(256),
                        started: Instant::now(),
                    });
                }
                Err(error) => report.results[next_login] = Some(Err(FetchError::Connect(error.to_string()))),
            }
            next_login += 1;
        }
        report.most_open = report.most_open.max(open.len());
        if open.is_empty() && next_login == logins.len() {
            break;
        }

        // 2. Sleep until the kernel says some socket can make progress.
        let mut watched: Vec<PollFd> = open
            .iter()
            .map(|pending| PollFd::new(pending.socket.as_fd(), pending.step.interest()))
            .collect();
        match poll(&mut watched, PollTimeout::from(1000u16)) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(error) => anyhow::bail!("poll failed: {error}"),
        }
        report.poll_calls += 1;
        let ready: Vec<usize> = watched
            .iter()
            .enumerate()
            .filter(|(_, fd)| fd.revents().is_some_and(|events| !events.is_empty()))
            .map(|(i, _)| i)
            .collect();
        drop(watched);
        trace.line(|| format!("poll → {} of {} sockets ready", ready.len(), open.len()));
        report.events += ready.len() as u64;

        // 3. Do what each ready socket allows (never more: nothing here may block), then
        //    forget the connections that are done. Backwards, so `swap_remove` keeps the
        //    indices still to visit valid.
        for &i in ready.iter().rev() {
            let before = open[i].step;
            let outcome = advance(&mut open[i]);
            let pending = &open[i];
            trace.line(|| describe(pending, before, outcome.as_ref()));
            if let Some(result) = outcome {
                let done = open.swap_remove(i);
                report.response_times[done.index] = done.started.elapsed();
                report.results[done.index] = Some(result);
            }
        }
        if !ready.is_empty() {
            last_progress = Instant::now();
        } else if last_progress.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("no socket made progress for a minute");
        }
    }
    report.trace = trace.lines;
    Ok(report)
}

/// A non-blocking socket, connecting: `connect` returns at once, usually "in progress".
fn start_connecting(server: SocketAddrV4) -> std::io::Result<TcpStream> {
    let socket = TcpStream::from(socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None)?);
    socket.set_nonblocking(true)?;
    match connect(socket.as_raw_fd(), &SockaddrIn::from(server)) {
        Ok(()) | Err(Errno::EINPROGRESS) => Ok(socket),
        Err(error) => Err(error.into()),
    }
}

/// Moves one ready connection as far as it can go without waiting. `Some` when it is done.
fn advance(pending: &mut Pending) -> Option<Result<UserRecord, FetchError>> {
    loop {
        match pending.step {
            Step::Connecting => match getsockopt(&pending.socket, sockopt::SocketError) {
                Ok(0) => pending.step = Step::Sending { sent: 0 },
                Ok(code) => return Some(Err(FetchError::Connect(Errno::from_raw(code).desc().to_string()))),
                Err(error) => return Some(Err(FetchError::Connect(error.desc().to_string()))),
            },
            Step::Sending { sent } => match pending.socket.write(&pending.request[sent..]) {
                Ok(written) if sent + written == pending.request.len() => pending.step = Step::Receiving,
                Ok(written) => pending.step = Step::Sending { sent: sent + written },
                Err(error) if error.kind() == ErrorKind::WouldBlock => return None,
                Err(error) => return Some(Err(FetchError::Io(error.to_string()))),
            },
            Step::Receiving => {
                let mut buffer = [0u8; 512];
                match pending.socket.read(&mut buffer) {
                    // The server closes the connection after its reply: the reply is complete.
                    Ok(0) => return Some(protocol::parse_reply(&String::from_utf8_lossy(&pending.reply))),
                    Ok(read) => pending.reply.extend_from_slice(&buffer[..read]),
                    Err(error) if error.kind() == ErrorKind::WouldBlock => return None,
                    Err(error) => return Some(Err(FetchError::Io(error.to_string()))),
                }
            }
        }
    }
}

/// One trace line for a connection that just advanced.
fn describe(pending: &Pending, before: Step, outcome: Option<&Result<UserRecord, FetchError>>) -> String {
    let who = format!("  #{}", pending.index + 1);
    match (before, outcome) {
        (_, Some(Ok(record))) => format!(
            "{who} reply complete after {}: {} ({}), joined {}",
            course::timing::format::duration(pending.started.elapsed()),
            record.login,
            record.display_name(),
            record.created_at.get(..10).unwrap_or(&record.created_at)
        ),
        (_, Some(Err(error))) => format!("{who} failed: {error}"),
        (Step::Connecting, None) => format!(
            "{who} connected; sent `{}`; now waiting to read",
            String::from_utf8_lossy(&pending.request)
                .lines()
                .next()
                .unwrap_or_default()
        ),
        (_, None) => format!("{who} some bytes moved; not done yet"),
    }
}

/// The first lines of what the loop did.
struct Trace {
    room: usize,
    lines: Vec<String>,
}

impl Trace {
    fn new(room: usize) -> Self {
        Trace {
            room,
            lines: Vec::new(),
        }
    }

    /// Keeps the line while there is room; builds it only then.
    fn line(&mut self, text: impl FnOnce() -> String) {
        if self.lines.len() < self.room {
            self.lines.push(text());
        }
    }
}
