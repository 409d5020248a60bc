//! Processes that find each other over TCP and run the dataflow together.
//!
//! Timely dataflow's cluster mode needs, before it starts, one connected TCP stream between
//! every pair of processes, and every process must know every address up front. Its own
//! set-up code retries forever and prints progress on stdout; here the connections are made
//! by [`connect_mesh`], which gives up after a deadline and checks that both ends belong to
//! the same run, then handed to timely.
//!
//! Two ways to start a cluster:
//! - [`run_local`]: the lesson starts its own worker processes (its own binary with the
//!   hidden `--worker` flag), tells them each other's addresses, scatters the data to them
//!   over their stdin and reads their results from their stdout;
//! - [`run_session`] directly, on each machine of a `--hosts` file, each started by hand with
//!   its index.

use crate::corpus::Corpus;
use crate::dataflow::{JobOutcome, Shard, Shuffle, run_jobs};
use anyhow::{Context, anyhow, bail};
use course::timing::{Measurement, measure};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::ops::Range;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};
use timely::communication::Hooks;
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};

/// The first eight bytes each end of a connection sends: "lesson11".
const MAGIC: u64 = u64::from_be_bytes(*b"lesson11");

/// A number that every process of one run must agree on: it covers the number of processes,
/// the corpus and the jobs. A process started with other flags is refused at the handshake.
pub fn fingerprint(processes: usize, corpus: &Corpus, jobs: &[Shuffle]) -> u64 {
    let text = format!("{processes} {corpus:?} {jobs:?}");
    // FNV-1a: the same on every machine and every build.
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Connects process `me` to every other process: it dials each lower-numbered process and
/// accepts a connection from each higher-numbered one (so that each pair makes exactly one
/// connection), and both ends of each connection exchange `(magic, index, processes,
/// fingerprint)`. Returns one stream per process, `None` at `me`. The listener is closed on
/// return: the port stops listening as soon as everyone is connected.
///
/// Nothing here waits forever: dialling is retried (the other process may not be listening
/// yet) and accepting is polled until `deadline`, then it fails naming who is missing.
pub fn connect_mesh(
    me: usize,
    listener: TcpListener,
    addresses: &[String],
    fingerprint: u64,
    deadline: Instant,
) -> anyhow::Result<Vec<Option<TcpStream>>> {
    let processes = addresses.len();
    let mut streams: Vec<Option<TcpStream>> = (0..processes).map(|_| None).collect();
    // Dial down: process `me` waits for 0..me to answer. Process 0 dials nobody, so the
    // chain always resolves: lower processes reach their accept loop before higher ones
    // need them to.
    for (peer, address) in addresses.iter().enumerate().take(me) {
        let mut stream =
            dial(address, deadline).with_context(|| format!("could not reach process {peer} at {address}"))?;
        send_hello(&mut stream, me, processes, fingerprint)?;
        let hello =
            read_hello(&mut stream, deadline).with_context(|| format!("process {peer} at {address} did not answer"))?;
        check_hello(hello, peer, processes, fingerprint)?;
        streams[peer] = Some(stream);
    }
    // Accept up: every higher process dials us.
    listener.set_nonblocking(true)?;
    let mut missing: Vec<usize> = (me + 1..processes).collect();
    while !missing.is_empty() {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nonblocking(false)?;
                let hello = read_hello(&mut stream, deadline)?;
                let peer = hello.index;
                if !missing.contains(&peer) {
                    bail!("a second connection claims to be process {peer}");
                }
                check_hello(hello, peer, processes, fingerprint)?;
                send_hello(&mut stream, me, processes, fingerprint)?;
                streams[peer] = Some(stream);
                missing.retain(|&p| p != peer);
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    bail!(
                        "gave up waiting for process(es) {missing:?} to connect to {}",
                        addresses[me]
                    );
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(error) => return Err(error).context("accepting a connection"),
        }
    }
    drop(listener);
    for stream in streams.iter().flatten() {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(None)?;
    }
    Ok(streams)
}

/// Dials `address` until it answers or `deadline` passes.
fn dial(address: &str, deadline: Instant) -> anyhow::Result<TcpStream> {
    loop {
        let attempt = address
            .to_socket_addrs()
            .with_context(|| format!("'{address}' is not an address"))?
            .next()
            .ok_or_else(|| anyhow!("'{address}' names no address"))
            .and_then(|socket| {
                let left = deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1));
                TcpStream::connect_timeout(&socket, left).map_err(anyhow::Error::from)
            });
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(error) if Instant::now() >= deadline => return Err(error.context("gave up at the deadline")),
            // Not listening yet (refused) or not reachable yet: try again shortly.
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Hello {
    index: usize,
    processes: usize,
    fingerprint: u64,
}

fn send_hello(stream: &mut TcpStream, me: usize, processes: usize, fingerprint: u64) -> anyhow::Result<()> {
    let mut bytes = Vec::with_capacity(32);
    for number in [MAGIC, me as u64, processes as u64, fingerprint] {
        bytes.extend_from_slice(&number.to_be_bytes());
    }
    stream.write_all(&bytes).context("sending the handshake")
}

fn read_hello(stream: &mut TcpStream, deadline: Instant) -> anyhow::Result<Hello> {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    stream.set_read_timeout(Some(left))?;
    let mut bytes = [0u8; 32];
    stream.read_exact(&mut bytes).context("reading the handshake")?;
    let number = |i: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[8 * i..8 * i + 8]);
        u64::from_be_bytes(word)
    };
    if number(0) != MAGIC {
        bail!("the other end is not a lesson11_distributed process");
    }
    Ok(Hello {
        index: number(1) as usize,
        processes: number(2) as usize,
        fingerprint: number(3),
    })
}

fn check_hello(hello: Hello, expected_index: usize, processes: usize, fingerprint: u64) -> anyhow::Result<()> {
    if hello.index != expected_index {
        bail!(
            "expected process {expected_index}, but process {} answered",
            hello.index
        );
    }
    if hello.processes != processes {
        bail!(
            "process {} counts {} processes, this one {processes}",
            hello.index,
            hello.processes
        );
    }
    if hello.fingerprint != fingerprint {
        bail!(
            "process {} was started with other settings (--seed, --blocks, --block-kib or the hosts file differ)",
            hello.index
        );
    }
    Ok(())
}

/// Everything after the listener is bound: connect to the others, hand the streams to timely,
/// run `jobs` on this process's `shard`, and return this process's outcomes.
pub fn run_session(
    me: usize,
    listener: TcpListener,
    addresses: &[String],
    shard: Shard,
    jobs: &[Shuffle],
    fingerprint: u64,
    connect_deadline: Instant,
) -> anyhow::Result<Vec<JobOutcome>> {
    let sockets = connect_mesh(me, listener, addresses, fingerprint, connect_deadline)?;
    // One worker thread in this process; its channels to the others run over the sockets.
    let hooks = Hooks::default();
    let process_allocators = ProcessBuilder::new_typed_vector(1, hooks.refill.clone(), None);
    let (builders, communication) = initialize_networking_from_sockets(process_allocators, sockets, me, 1, hooks)
        .context("starting timely's network threads")?;
    let builders = builders.into_iter().map(AllocatorBuilder::Tcp).collect();
    let shard = Arc::new(shard);
    let address = addresses[me].clone();
    let jobs = jobs.to_vec();
    let guards = timely::execute::execute_from(
        builders,
        Box::new(communication),
        timely::WorkerConfig::default(),
        move |worker| run_jobs(worker, &shard, &address, &jobs),
    )
    .map_err(|error| anyhow!("timely did not start: {error}"))?;
    guards
        .join()
        .pop()
        .ok_or_else(|| anyhow!("timely ran no worker"))?
        .map_err(|error| anyhow!("the dataflow worker failed: {error}"))
}

/// What the parent sends a worker on its stdin before the shard's text.
#[derive(Debug, Serialize, Deserialize)]
struct Assignment {
    addresses: Vec<String>,
    blocks: Range<usize>,
    bytes: usize,
    jobs: Vec<Shuffle>,
    fingerprint: u64,
    connect_timeout_ms: u64,
}

/// The hidden `--worker INDEX` mode: one process of a local cluster. It talks to its parent
/// over its stdin and stdout (this is not a lesson run, so it writes to stdout directly):
///
/// 1. binds 127.0.0.1 port 0 (the OS picks a free port) and prints `listening ADDRESS`;
/// 2. reads its assignment (everyone's address, its blocks) and then the blocks' text;
/// 3. connects to the others and runs the dataflow;
/// 4. prints `outcome JSON` for each job and exits.
pub fn serve_as_worker(me: usize) -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a port on 127.0.0.1")?;
    let address = listener.local_addr()?.to_string();
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening {address}")?;
        stdout.flush()?;
    }
    let mut stdin = BufReader::new(std::io::stdin().lock());
    let mut header = String::new();
    if stdin.read_line(&mut header)? == 0 {
        bail!("the parent closed the pipe before sending an assignment");
    }
    let assignment: Assignment = serde_json::from_str(&header).context("reading the assignment")?;
    if assignment.addresses.get(me) != Some(&address) {
        bail!("the assignment does not list this worker's address {address} at index {me}");
    }
    let mut text = vec![0u8; assignment.bytes];
    stdin.read_exact(&mut text).context("reading the shard")?;
    let shard = Shard {
        blocks: assignment.blocks,
        text: String::from_utf8(text).context("the shard is not text")?,
    };
    let deadline = Instant::now() + Duration::from_millis(assignment.connect_timeout_ms);
    let outcomes = run_session(
        me,
        listener,
        &assignment.addresses,
        shard,
        &assignment.jobs,
        assignment.fingerprint,
        deadline,
    )?;
    let mut stdout = std::io::stdout().lock();
    for outcome in &outcomes {
        writeln!(stdout, "outcome {}", serde_json::to_string(outcome)?)?;
    }
    stdout.flush()?;
    Ok(())
}

/// One local run, seen from the parent.
#[derive(Clone, Debug)]
pub struct LocalRun {
    /// Start the processes until every one is listening.
    pub start: Measurement,
    /// Send each its assignment and its blocks.
    pub scatter: Measurement,
    /// Connect, run the dataflow, gather, and print the results.
    pub run: Measurement,
    /// Wait for every process to exit.
    pub reap: Measurement,
    /// Process 0's outcome of each job, with everything it gathered.
    pub outcomes: Vec<JobOutcome>,
}

/// Runs `jobs` on `processes` worker processes started from this program's own binary.
/// `text` is the whole corpus and `block_starts[b]` the byte where block `b` starts (one more
/// entry for the end). The workers are killed and reaped on every path out of here.
pub fn run_local(
    corpus: &Corpus,
    text: &str,
    block_starts: &[usize],
    processes: usize,
    jobs: &[Shuffle],
    connect_timeout: Duration,
) -> anyhow::Result<LocalRun> {
    let mut group = WorkerGroup::default();
    let (started, start) = measure(|| group.start(processes));
    started?;
    let addresses = group.addresses.clone();

    // Scatter: each process gets the addresses of all and the text of its blocks.
    let fingerprint = fingerprint(processes, corpus, jobs);
    let (scattered, scatter) = measure(|| -> anyhow::Result<()> {
        for (index, stdin) in group.stdins.iter_mut().enumerate() {
            let blocks = corpus.blocks_of(index, processes);
            let shard = &text[block_starts[blocks.start]..block_starts[blocks.end]];
            let assignment = Assignment {
                addresses: addresses.clone(),
                blocks,
                bytes: shard.len(),
                jobs: jobs.to_vec(),
                fingerprint,
                connect_timeout_ms: connect_timeout.as_millis() as u64,
            };
            let mut pipe = stdin.take().ok_or_else(|| anyhow!("worker {index} has no stdin"))?;
            writeln!(pipe, "{}", serde_json::to_string(&assignment)?)
                .and_then(|()| pipe.write_all(shard.as_bytes()))
                .with_context(|| format!("sending worker {index} its blocks"))?;
            // Dropping the pipe closes it: the worker reads no more.
        }
        Ok(())
    });
    if let Err(error) = scattered {
        return Err(group.failure(error));
    }

    // Run and gather: wait for every process's outcomes, or for one to fail.
    let (collected, run) = measure(|| group.collect_outcomes(jobs.len(), connect_timeout));
    let outcomes = match collected {
        Ok(outcomes) => outcomes,
        Err(error) => return Err(group.failure(error)),
    };
    let (reaped, reap) = measure(|| group.reap());
    reaped?;
    Ok(LocalRun {
        start,
        scatter,
        run,
        reap,
        outcomes,
    })
}

/// A line from a worker's stdout, or the end of it.
enum WorkerLine {
    Line(usize, String),
    Closed(usize),
}

/// The worker processes of one local run. Dropping it kills and reaps any that are left.
#[derive(Default)]
struct WorkerGroup {
    pids: Vec<Pid>,
    addresses: Vec<String>,
    stdins: Vec<Option<ChildStdin>>,
    lines: Option<Receiver<WorkerLine>>,
    stderr: Vec<Option<std::thread::JoinHandle<String>>>,
}

impl WorkerGroup {
    /// Starts `processes` workers and waits until each has printed its address.
    fn start(&mut self, processes: usize) -> anyhow::Result<()> {
        let program = std::env::current_exe().context("finding this program's binary")?;
        let (sender, receiver): (Sender<WorkerLine>, Receiver<WorkerLine>) = channel();
        for index in 0..processes {
            let mut command = Command::new(&program);
            command
                .arg("--worker")
                .arg(index.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            // Tracked by the course: killed and reaped on Ctrl-C, and (PDEATHSIG) killed by the
            // kernel if this process dies. Spawned from the calling (main) thread.
            let mut child = course::children::spawn(&mut command)?;
            self.pids.push(Pid::from_raw(child.id() as i32));
            self.stdins.push(child.stdin.take());
            let stdout = child
                .stdout
                .take()
                .ok_or_else(|| anyhow!("worker {index} has no stdout"))?;
            let stderr = child.stderr.take();
            let sender = sender.clone();
            // One reader thread per worker, so that no worker ever blocks on a full pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    match line {
                        Ok(line) => {
                            if sender.send(WorkerLine::Line(index, line)).is_err() {
                                return;
                            }
                        }
                        Err(_) => break,
                    }
                }
                let _ = sender.send(WorkerLine::Closed(index));
            });
            self.stderr.push(stderr.map(|mut stderr| {
                std::thread::spawn(move || {
                    let mut text = String::new();
                    let _ = stderr.read_to_string(&mut text);
                    text
                })
            }));
        }
        self.lines = Some(receiver);
        // Each worker binds port 0 itself and keeps it: nobody can take the port between the
        // moment it is chosen and the moment it is used.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut addresses: Vec<Option<String>> = vec![None; processes];
        while addresses.iter().any(Option::is_none) {
            match self.next_line(deadline)? {
                WorkerLine::Line(index, line) => match line.strip_prefix("listening ") {
                    Some(address) => addresses[index] = Some(address.to_string()),
                    None => bail!("worker {index} said '{line}' instead of its address"),
                },
                WorkerLine::Closed(index) => bail!("worker {index} exited before it was listening"),
            }
        }
        self.addresses = addresses.into_iter().flatten().collect();
        Ok(())
    }

    fn next_line(&self, deadline: Instant) -> anyhow::Result<WorkerLine> {
        let lines = self.lines.as_ref().ok_or_else(|| anyhow!("no worker started"))?;
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => bail!("the workers did not answer in time"),
            Err(RecvTimeoutError::Disconnected) => bail!("every worker closed its output"),
        }
    }

    /// Reads every worker's outcome lines until each has closed its stdout. Returns process
    /// 0's outcomes (the others' are checked to be there).
    fn collect_outcomes(&self, jobs: usize, connect_timeout: Duration) -> anyhow::Result<Vec<JobOutcome>> {
        let processes = self.pids.len();
        let mut outcomes: Vec<Vec<JobOutcome>> = vec![Vec::new(); processes];
        let mut open = processes;
        // Connecting has its own deadline inside the workers; counting a corpus this size takes
        // seconds. This one only catches a worker that hangs.
        let deadline = Instant::now() + connect_timeout + Duration::from_secs(600);
        while open > 0 {
            match self.next_line(deadline)? {
                WorkerLine::Line(index, line) => {
                    let json = line
                        .strip_prefix("outcome ")
                        .ok_or_else(|| anyhow!("worker {index} said '{line}'"))?;
                    outcomes[index].push(serde_json::from_str(json).context("reading a worker's outcome")?);
                }
                WorkerLine::Closed(index) => {
                    open -= 1;
                    if outcomes[index].len() != jobs {
                        bail!("worker {index} exited without its results");
                    }
                }
            }
        }
        Ok(outcomes.swap_remove(0))
    }

    /// Waits for every worker to exit and checks that each exited successfully.
    fn reap(&mut self) -> anyhow::Result<()> {
        let mut failed = Vec::new();
        for (index, pid) in self.pids.drain(..).enumerate() {
            match course::children::wait(pid) {
                Ok(nix::sys::wait::WaitStatus::Exited(_, 0)) => {}
                Ok(status) => failed.push(format!("worker {index}: {status:?}")),
                Err(error) => failed.push(format!("worker {index}: {error}")),
            }
        }
        if !failed.is_empty() {
            bail!("workers failed: {}", failed.join("; "));
        }
        Ok(())
    }

    /// Kills the workers and adds the first thing any of them said on stderr to `error`.
    fn failure(&mut self, error: anyhow::Error) -> anyhow::Error {
        self.kill();
        let said: Vec<String> = self
            .stderr
            .iter_mut()
            .filter_map(|handle| handle.take()?.join().ok())
            .flat_map(|text| text.lines().map(str::to_string).collect::<Vec<_>>())
            .filter(|line| !line.trim().is_empty())
            .collect();
        match said.first() {
            Some(line) => error.context(line.clone()),
            None => error,
        }
    }

    fn kill(&mut self) {
        for pid in self.pids.drain(..) {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = course::children::wait(pid);
        }
    }
}

impl Drop for WorkerGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One process's address in a `--hosts` file, and the line of the file it is on (counting from
/// 1, as editors do; the process's index counts addresses from 0, skipping other lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostLine {
    pub address: String,
    pub line: usize,
}

/// The `--hosts` file: one `host:port` per process, process 0 first. Blank lines and lines
/// starting with `#` are skipped.
pub fn parse_hosts(text: &str) -> Result<Vec<HostLine>, String> {
    let mut hosts: Vec<HostLine> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (host, port) = line
            .rsplit_once(':')
            .ok_or_else(|| format!("line {}: '{line}' is not host:port", number + 1))?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("line {}: '{port}' is not a port number", number + 1))?;
        if host.is_empty() || port == 0 {
            return Err(format!(
                "line {}: '{line}' needs a host and a port from 1 to 65535",
                number + 1
            ));
        }
        if hosts.iter().any(|known| known.address == line) {
            return Err(format!("line {}: '{line}' is listed twice", number + 1));
        }
        hosts.push(HostLine {
            address: line.to_string(),
            line: number + 1,
        });
    }
    if hosts.len() < 2 {
        return Err(format!(
            "a hosts file lists at least two processes (one host:port per line); this one lists {}",
            hosts.len()
        ));
    }
    if hosts.len() > 64 {
        return Err(format!("at most 64 processes; this hosts file lists {}", hosts.len()));
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_files_are_checked() {
        let hosts = parse_hosts("# two machines\n10.0.0.1:7000\n\n10.0.0.2:7000\n").unwrap();
        let addresses: Vec<&str> = hosts.iter().map(|host| host.address.as_str()).collect();
        assert_eq!(addresses, vec!["10.0.0.1:7000", "10.0.0.2:7000"]);
        // Process 0 is the first address, on line 2 after the comment; process 1 is on line 4.
        let lines: Vec<usize> = hosts.iter().map(|host| host.line).collect();
        assert_eq!(lines, vec![2, 4]);
        assert!(parse_hosts("").unwrap_err().contains("at least two"));
        assert!(parse_hosts("a:1\nb\n").unwrap_err().contains("line 2"));
        assert!(parse_hosts("a:1\nb:x\n").unwrap_err().contains("not a port"));
        assert!(parse_hosts("a:1\nb:0\n").is_err());
        assert!(parse_hosts("a:1\na:1\n").unwrap_err().contains("twice"));
        assert!(parse_hosts("a:1\nb:70000\n").is_err());
        assert!(parse_hosts("\u{0}\u{1}binary junk").is_err());
    }

    #[test]
    fn fingerprints_differ_when_settings_do() {
        let corpus = Corpus {
            seed: 1,
            blocks: 4,
            block_bytes: 100,
        };
        let base = fingerprint(2, &corpus, &[Shuffle::Combined]);
        assert_eq!(base, fingerprint(2, &corpus, &[Shuffle::Combined]));
        assert_ne!(base, fingerprint(3, &corpus, &[Shuffle::Combined]));
        assert_ne!(
            base,
            fingerprint(2, &Corpus { seed: 2, ..corpus }, &[Shuffle::Combined])
        );
        assert_ne!(base, fingerprint(2, &corpus, &[Shuffle::EveryWord]));
    }

    #[test]
    fn a_mesh_of_three_connects_and_checks_who_is_who() {
        let listeners: Vec<TcpListener> = (0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let addresses: Vec<String> = listeners.iter().map(|l| l.local_addr().unwrap().to_string()).collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        let handles: Vec<_> = listeners
            .into_iter()
            .enumerate()
            .map(|(me, listener)| {
                let addresses = addresses.clone();
                std::thread::spawn(move || connect_mesh(me, listener, &addresses, 42, deadline))
            })
            .collect();
        for (me, handle) in handles.into_iter().enumerate() {
            let streams = handle.join().unwrap().unwrap();
            assert_eq!(streams.len(), 3);
            for (peer, stream) in streams.iter().enumerate() {
                assert_eq!(stream.is_some(), peer != me, "process {me}, peer {peer}");
            }
        }
    }

    #[test]
    fn a_missing_process_is_a_timeout_not_a_hang() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let nobody = TcpListener::bind("127.0.0.1:0").unwrap();
        let addresses = vec![
            listener.local_addr().unwrap().to_string(),
            nobody.local_addr().unwrap().to_string(),
        ];
        drop(nobody);
        let deadline = Instant::now() + Duration::from_millis(300);
        // Process 0 waits for process 1, which never comes.
        let error = connect_mesh(0, listener, &addresses, 1, deadline).unwrap_err();
        assert!(error.to_string().contains("gave up"), "{error:#}");
    }

    #[test]
    fn a_process_with_other_settings_is_refused() {
        let zero = TcpListener::bind("127.0.0.1:0").unwrap();
        let one = TcpListener::bind("127.0.0.1:0").unwrap();
        let addresses = vec![
            zero.local_addr().unwrap().to_string(),
            one.local_addr().unwrap().to_string(),
        ];
        let deadline = Instant::now() + Duration::from_secs(5);
        let other = addresses.clone();
        let first = std::thread::spawn(move || connect_mesh(0, zero, &other, 1, deadline));
        let second = connect_mesh(1, one, &addresses, 2, deadline);
        assert!(first.join().unwrap().is_err());
        assert!(second.is_err());
    }
}
