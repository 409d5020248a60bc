//! Starting the processes of a cluster and running the dataflow in each.
//!
//! Two ways to start a cluster:
//! - [`run_local`]: the lesson starts its own worker processes (its own binary with the
//!   hidden `--worker` flag), tells them each other's addresses, scatters the data to them
//!   over their stdin and reads their results from their stdout;
//! - [`run_session`] directly, on each machine of a `--hosts` file, each started by hand with
//!   its index.
//!
//! Either way each process connects to every other ([`crate::mesh`]), hands the connections
//! to timely, and runs the jobs of [`crate::job`].

use crate::corpus::Corpus;
use crate::job::{Job, JobOutcome, Shard, run_jobs};
use crate::mesh::{connect_mesh, fingerprint};
use anyhow::{Context, anyhow, bail};
use course::limits;
use course::timing::{Measurement, measure};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::ops::Range;
use std::os::fd::AsFd;
use std::process::{ChildStderr, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use timely::communication::Hooks;
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};

/// Threads one process of a cluster of `processes` starts for timely: its worker, and a
/// sending and a receiving thread for each other process.
pub fn timely_threads(processes: usize) -> u64 {
    1 + 2 * processes.saturating_sub(1) as u64
}

/// Everything after the listener is bound: connect to the others, hand the streams to timely,
/// run `jobs` on this process's `shard`, and return this process's outcomes.
pub fn run_session(
    me: usize,
    listener: TcpListener,
    addresses: &[String],
    shard: Shard,
    jobs: &[Job],
    fingerprint: u64,
    connect_deadline: Instant,
) -> anyhow::Result<Vec<JobOutcome>> {
    // Once connected, a process that cannot start its threads leaves the others waiting:
    // check first that they fit.
    let needed = timely_threads(addresses.len());
    if let Some((room, limit)) = limits::room_for_threads(limits::DEFAULT_STACK)
        && room < needed
    {
        let needed = course::timing::format::plural(needed, "thread");
        bail!("timely needs {needed} in this process, and there is room for {room}: {limit}");
    }
    let sockets = connect_mesh(me, listener, addresses, fingerprint, connect_deadline)?;
    // One worker thread in this process; its channels to the others run over the sockets.
    let hooks = Hooks::default();
    let process_allocators = ProcessBuilder::new_typed_vector(1, hooks.refill.clone(), None);
    let (builders, network) = initialize_networking_from_sockets(process_allocators, sockets, me, 1, hooks)
        .context("starting timely's network threads")?;
    let builders = builders.into_iter().map(AllocatorBuilder::Tcp).collect();
    // Timely joins its network threads when it drops this guard. After a failed start they
    // would wait for peers that wait for this process: then the guard is leaked instead.
    let network = Arc::new(Mutex::new(Some(network)));
    let shard = Arc::new(shard);
    let address = addresses[me].clone();
    let jobs = jobs.to_vec();
    let started = timely::execute::execute_from(
        builders,
        Box::new(Arc::clone(&network)),
        timely::WorkerConfig::default(),
        move |worker| run_jobs(worker, &shard, &address, &jobs),
    );
    let mut network = network.lock().unwrap_or_else(|e| e.into_inner());
    let guards = match started {
        Ok(guards) => guards,
        Err(error) => {
            std::mem::forget(network.take());
            bail!(
                "timely could not start its worker thread: {error}; {}",
                limits::what_limits_tasks()
            );
        }
    };
    let outcome = guards.join().pop();
    drop(network.take());
    outcome
        .ok_or_else(|| anyhow!("timely ran no worker"))?
        .map_err(|error| anyhow!("the dataflow worker failed: {error}"))
}

/// What the parent sends a worker on its stdin before the shard's text.
#[derive(Debug, Serialize, Deserialize)]
struct Assignment {
    addresses: Vec<String>,
    blocks: Range<usize>,
    bytes: usize,
    jobs: Vec<Job>,
    fingerprint: u64,
    connect_timeout_ms: u64,
}

/// The hidden `--worker INDEX` mode. Any failure is one line on stderr, naming the limit in
/// the way when the machine refused something, and exit status 1; the parent reports it.
pub fn worker_main(index: usize) -> ExitCode {
    exit_on_panic(format!("lesson11_distributed worker {index}"));
    match serve_as_worker(index) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let limit = limits::explain(&error)
                .filter(|limit| !format!("{error:#}").contains(limit.as_str()))
                .map(|limit| format!("; {limit}"))
                .unwrap_or_default();
            eprintln!("lesson11_distributed worker {index}: {error:#}{limit}");
            // At once: timely's threads may still wait for the other processes.
            course::children::exit_now(1)
        }
    }
}

/// Makes a panic on any thread end the process at once with one line on stderr, starting with
/// `who`. Timely's network threads panic when a peer process disappears ("timely communication
/// error"); the panic then reaches every other process as a closed connection, so a dead peer
/// ends the whole cluster instead of leaving it waiting.
pub fn exit_on_panic(who: String) {
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown failure".to_string());
        eprintln!("{who}: a process of the cluster failed: {message}");
        course::children::exit_now(1);
    }));
}

/// One process of a local cluster. It talks to its parent over its stdin and stdout (this is
/// not a lesson run, so it writes to stdout directly):
///
/// 1. binds 127.0.0.1 port 0 (the OS picks a free port) and prints `listening ADDRESS`;
/// 2. reads its assignment (everyone's address, its blocks) and then the blocks' text;
/// 3. connects to the others and runs the dataflow;
/// 4. prints `outcome JSON` for each job and exits.
fn serve_as_worker(me: usize) -> anyhow::Result<()> {
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
    let mut text = Vec::new();
    text.try_reserve_exact(assignment.bytes)
        .context("making room for the shard")?;
    text.resize(assignment.bytes, 0);
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
    jobs: &[Job],
    connect_timeout: Duration,
) -> anyhow::Result<LocalRun> {
    let mut group = WorkerGroup::default();
    let (started, start) = measure(|| group.start(processes));
    if let Err(error) = started {
        return Err(group.failure(error));
    }

    // Scatter: each process gets the addresses of all and the text of its blocks.
    let fingerprint = fingerprint(processes, corpus, jobs);
    let (scattered, scatter) = measure(|| -> anyhow::Result<()> {
        for (index, worker) in group.workers.iter_mut().enumerate() {
            let blocks = corpus.blocks_of(index, processes);
            let shard = &text[block_starts[blocks.start]..block_starts[blocks.end]];
            let assignment = Assignment {
                addresses: group.addresses.clone(),
                blocks,
                bytes: shard.len(),
                jobs: jobs.to_vec(),
                fingerprint,
                connect_timeout_ms: connect_timeout.as_millis() as u64,
            };
            let mut pipe = worker
                .stdin
                .take()
                .ok_or_else(|| anyhow!("worker {index} has no stdin"))?;
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

/// One worker process and the parent's ends of its pipes.
struct WorkerProcess {
    pid: Pid,
    stdin: Option<ChildStdin>,
    /// `None` once the worker has closed it.
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
    /// The start of a line not finished yet.
    partial: Vec<u8>,
}

/// The worker processes of one local run. The parent waits on all their pipes at once (poll),
/// with no thread per worker. Dropping the group kills and reaps any worker that is left.
#[derive(Default)]
struct WorkerGroup {
    workers: Vec<WorkerProcess>,
    addresses: Vec<String>,
    lines: VecDeque<WorkerLine>,
}

impl WorkerGroup {
    /// Starts `processes` workers and waits until each has printed its address.
    fn start(&mut self, processes: usize) -> anyhow::Result<()> {
        let program = std::env::current_exe().context("finding this program's binary")?;
        for index in 0..processes {
            let mut command = Command::new(&program);
            command
                .arg("--worker")
                .arg(index.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            // Tracked by the course: killed and reaped on Ctrl-C, and (PDEATHSIG) killed by the
            // kernel if this process dies. A refusal names its limit (tasks, memory or files);
            // under an address-space limit the worker inherits the lesson's MALLOC_ARENA_MAX
            // (see `course::limits::fit_allocator_to_address_space`).
            let mut child = course::children::spawn(&mut command)?;
            self.workers.push(WorkerProcess {
                pid: Pid::from_raw(child.id() as i32),
                stdin: child.stdin.take(),
                stdout: child.stdout.take(),
                stderr: child.stderr.take(),
                partial: Vec::new(),
            });
        }
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

    /// The next line any worker wrote on its stdout, or the end of one's output.
    fn next_line(&mut self, deadline: Instant) -> anyhow::Result<WorkerLine> {
        loop {
            if let Some(line) = self.lines.pop_front() {
                return Ok(line);
            }
            let open: Vec<usize> = (0..self.workers.len())
                .filter(|&index| self.workers[index].stdout.is_some())
                .collect();
            if open.is_empty() {
                bail!("every worker closed its output");
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("the workers did not answer in time");
            }
            let ready: Vec<usize> = {
                let mut fds: Vec<PollFd> = open
                    .iter()
                    .filter_map(|&index| self.workers[index].stdout.as_ref())
                    .map(|stdout| PollFd::new(stdout.as_fd(), PollFlags::POLLIN))
                    .collect();
                let timeout = PollTimeout::try_from(left.min(Duration::from_secs(1))).unwrap_or(PollTimeout::MAX);
                match poll(&mut fds, timeout) {
                    Ok(_) => {}
                    // A signal arrived (Ctrl-C ends the process from its handler): poll again.
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(error) => return Err(anyhow!(error).context("waiting for the workers")),
                }
                open.iter()
                    .zip(&fds)
                    .filter(|(_, fd)| fd.revents().is_some_and(|events| !events.is_empty()))
                    .map(|(&index, _)| index)
                    .collect()
            };
            for index in ready {
                self.read_from(index);
            }
        }
    }

    /// Reads what worker `index` has written (poll said there is something, or its end).
    fn read_from(&mut self, index: usize) {
        let worker = &mut self.workers[index];
        let Some(stdout) = worker.stdout.as_mut() else {
            return;
        };
        let mut buffer = [0u8; 1 << 16];
        match stdout.read(&mut buffer) {
            Ok(0) => {
                worker.stdout = None;
                self.lines.push_back(WorkerLine::Closed(index));
            }
            Ok(read) => {
                worker.partial.extend_from_slice(&buffer[..read]);
                while let Some(end) = worker.partial.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = worker.partial.drain(..=end).collect();
                    let line = String::from_utf8_lossy(&line[..end]).into_owned();
                    self.lines.push_back(WorkerLine::Line(index, line));
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                worker.stdout = None;
                self.lines.push_back(WorkerLine::Closed(index));
            }
        }
    }

    /// Reads every worker's outcome lines until each has closed its stdout. Returns process
    /// 0's outcomes (the others' are checked to be there).
    fn collect_outcomes(&mut self, jobs: usize, connect_timeout: Duration) -> anyhow::Result<Vec<JobOutcome>> {
        let processes = self.workers.len();
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
        for (index, worker) in self.workers.drain(..).enumerate() {
            match course::children::wait(worker.pid) {
                Ok(WaitStatus::Exited(_, 0)) => {}
                Ok(status) => failed.push(format!("worker {index}: {status:?}")),
                Err(error) => failed.push(format!("worker {index}: {error}")),
            }
        }
        if !failed.is_empty() {
            bail!("workers failed: {}", failed.join("; "));
        }
        Ok(())
    }

    /// Kills and reaps the workers. What one of them said on stderr (its own one-line error)
    /// replaces `error`, which only says that something went wrong.
    fn failure(&mut self, error: anyhow::Error) -> anyhow::Error {
        let statuses = self.kill();
        let mut said: Vec<(usize, String)> = Vec::new();
        for (index, worker) in self.workers.iter_mut().enumerate() {
            let mut text = String::new();
            if let Some(mut stderr) = worker.stderr.take()
                && stderr.read_to_string(&mut text).is_ok()
                && let Some(line) = text.lines().find(|line| !line.trim().is_empty())
            {
                let prefix = format!("lesson11_distributed worker {index}: ");
                let line = line.strip_prefix(&prefix).unwrap_or(line);
                said.push((index, line.replace("a process of the cluster failed: ", "")));
            }
        }
        self.workers.clear();
        // One worker's failure makes its peers fail too (a closed connection, a send to a
        // channel nobody reads): the cause is what the others do not echo.
        let echo = |line: &str| {
            ["timely communication error", "SendError", "socket closed"]
                .iter()
                .any(|e| line.contains(e))
        };
        said.sort_by_key(|(_, line)| echo(line));
        // Rust aborts a process that cannot allocate: under an address-space limit, say so.
        let aborted = statuses.contains(&Some(Signal::SIGABRT))
            || said
                .iter()
                .any(|(_, line)| line.contains("memory allocation") || line.contains("allocate memory"));
        let memory = match limits::address_space() {
            Some((limit, _)) if aborted => {
                format!(
                    "; the address-space limit (ulimit -v) is {}",
                    course::timing::format::bytes(limit)
                )
            }
            _ => String::new(),
        };
        match said.first() {
            Some((index, line)) => anyhow!("worker {index} failed: {line}{memory}"),
            None if memory.is_empty() => error,
            None => anyhow!("{error:#}{memory}"),
        }
    }

    /// Kills every worker still running and reaps it; returns, for each, the signal that ended
    /// it when it died of one before it was killed (an abort, say).
    fn kill(&mut self) -> Vec<Option<Signal>> {
        self.workers
            .iter()
            .map(|worker| {
                // A worker that already ended is a zombie until reaped: the signal does nothing.
                let _ = kill(worker.pid, Signal::SIGKILL);
                match course::children::wait(worker.pid) {
                    Ok(WaitStatus::Signaled(_, signal, _)) if signal != Signal::SIGKILL => Some(signal),
                    _ => None,
                }
            })
            .collect()
    }
}

impl Drop for WorkerGroup {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
