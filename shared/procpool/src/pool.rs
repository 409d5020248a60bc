//! The pool itself: forked workers, one pair of pipes each, and a parent that hands out chunks
//! of items and collects results with `poll`.

use crate::wire::{EncodeAs, Wire, WireError};
use course::children;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A worker sends what it has when its buffered results reach this size (or its chunk ends):
/// small results travel together, large ones do not pile up in memory.
const FLUSH_BYTES: usize = 64 * 1024;

/// No message may claim to be larger than this: a corrupt length is caught, not allocated.
const MAX_FRAME: usize = 1 << 30;

/// The most workers one pool may have.
pub const MAX_WORKERS: usize = 256;

/// Every pipe end the parent keeps for any pool. A freshly forked worker closes all of them
/// except its own: otherwise a worker of one pool would hold another pool's pipes open, and
/// the parent would never see end-of-file when a worker of that other pool dies or is told to
/// stop.
static PARENT_PIPE_ENDS: Mutex<Vec<RawFd>> = Mutex::new(Vec::new());

/// Why a pool could not do what was asked.
#[derive(Debug)]
pub enum PoolError {
    /// The pool could not be started (too many threads to fork safely, a fork or pipe failed).
    Start(String),
    /// A worker process ended while the pool needed it. `item` is the item it was computing
    /// (None when it died between items). The other workers were stopped; the pool is broken.
    WorkerDied {
        worker: usize,
        pid: i32,
        item: Option<usize>,
        how: String,
    },
    /// A message between parent and worker could not be read or understood.
    Protocol(String),
    /// The pool broke earlier (see the first error) and can do no more work.
    Broken(String),
}

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PoolError::Start(why) => write!(f, "could not start the process pool: {why}"),
            PoolError::WorkerDied { worker, pid, item, how } => match item {
                Some(item) => write!(f, "worker {worker} (pid {pid}) {how} while working on item {item}"),
                None => write!(f, "worker {worker} (pid {pid}) {how} between items"),
            },
            PoolError::Protocol(why) => write!(f, "process pool message error: {why}"),
            PoolError::Broken(first) => write!(f, "the process pool is broken ({first})"),
        }
    }
}

impl std::error::Error for PoolError {}

/// What the last `map` did, beyond its results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MapReport {
    pub items: usize,
    /// Messages sent to workers: one per chunk.
    pub chunks: usize,
    /// Bytes of items sent to workers and of results received, framing included.
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// CPU time the workers reported spending during this map (user + system).
    pub worker_cpu: Duration,
    /// How many items each worker computed.
    pub items_per_worker: Vec<usize>,
}

/// A pool of worker processes forked up front, each running `work` on the items it is sent.
///
/// `I` is what a worker receives, `O` what it returns; both cross a pipe as bytes ([`Wire`]).
/// Create the pool while the process has one thread (before rayon or any other thread pool
/// starts): `fork` copies only the calling thread.
///
/// ```no_run
/// let mut pool = procpool::ProcessPool::start(2, |n: u64| n * n).unwrap();
/// assert_eq!(pool.map([1u64, 2, 3], 1).unwrap(), vec![1, 4, 9]);
/// pool.shutdown().unwrap();
/// ```
pub struct ProcessPool<I, O> {
    workers: Vec<Worker>,
    slots: SharedSlots,
    broken: Option<String>,
    last_map: MapReport,
    _types: PhantomData<fn(I) -> O>,
}

struct Worker {
    pid: Pid,
    /// The parent's ends: it writes chunks to `tasks` and reads results from `results`.
    tasks: Option<File>,
    results: Option<File>,
    /// The worker's CPU time as of its latest message.
    cpu_reported: Duration,
    /// True while a chunk sent to it has results outstanding.
    busy: bool,
    reaped: bool,
}

impl Worker {
    /// Closes the parent's ends of this worker's pipes (and stops listing them for new workers
    /// to close: the numbers will be reused).
    fn close_pipes(&mut self) {
        for file in [self.tasks.take(), self.results.take()].into_iter().flatten() {
            forget_parent_ends(&[file.as_raw_fd()]);
        }
    }
}

/// The items of one map not yet sent, and the buffer chunks are encoded in.
struct Feed<It> {
    items: It,
    next_index: usize,
    chunk_size: usize,
    message: Vec<u8>,
}

/// The chunk a worker is computing: items `first..first + count`, `received` of them back.
#[derive(Clone, Copy)]
struct InFlight {
    first: usize,
    count: usize,
    received: usize,
}

impl<I: Wire, O: Wire> ProcessPool<I, O> {
    /// Forks `n_workers` workers that run `work` on each item they receive, in a loop, until
    /// the pool is shut down. The closure runs only in the workers; it sees a copy of this
    /// process's memory as it was at the fork.
    pub fn start<F: Fn(I) -> O>(n_workers: usize, work: F) -> Result<Self, PoolError> {
        if n_workers == 0 || n_workers > MAX_WORKERS {
            return Err(PoolError::Start(format!(
                "{n_workers} workers asked for; from 1 to {MAX_WORKERS} are allowed"
            )));
        }
        // Threads that never end (rayon's global pool) make this fail: start pools first.
        children::wait_until_single_threaded(Duration::from_secs(2)).map_err(|e| PoolError::Start(e.to_string()))?;
        let slots = SharedSlots::new(n_workers)?;
        let mut pool = ProcessPool {
            workers: Vec::with_capacity(n_workers),
            slots,
            broken: None,
            last_map: MapReport::default(),
            _types: PhantomData,
        };
        for index in 0..n_workers {
            // If this fails, dropping `pool` stops and reaps the workers started so far.
            pool.fork_worker(index, &work)?;
        }
        Ok(pool)
    }

    fn fork_worker<F: Fn(I) -> O>(&mut self, index: usize, work: &F) -> Result<(), PoolError> {
        let (task_read, task_write) = close_on_exec_pipe()?;
        let (result_read, result_write) = close_on_exec_pipe()?;
        {
            let mut ends = PARENT_PIPE_ENDS.lock().unwrap_or_else(|e| e.into_inner());
            ends.push(task_write.as_raw_fd());
            ends.push(result_read.as_raw_fd());
        }
        let slot = self.slots.get(index);
        let forked = children::fork(|| {
            close_other_pools_pipes();
            worker_loop(slot, &task_read, &result_write, work)
        });
        // The child's ends were moved into the closure only by reference: the parent closes
        // its copies here (they are dropped at the end of this function), so that the pipes
        // end when the worker does.
        let pid = match forked {
            Ok(pid) => pid,
            Err(error) => {
                forget_parent_ends(&[task_write.as_raw_fd(), result_read.as_raw_fd()]);
                return Err(PoolError::Start(format!("{error:#}")));
            }
        };
        self.workers.push(Worker {
            pid,
            tasks: Some(File::from(task_write)),
            results: Some(File::from(result_read)),
            cpu_reported: Duration::ZERO,
            busy: false,
            reaped: false,
        });
        Ok(())
    }

    pub fn n_workers(&self) -> usize {
        self.workers.len()
    }

    /// The workers' process ids, in worker order.
    pub fn worker_pids(&self) -> Vec<i32> {
        self.workers.iter().map(|worker| worker.pid.as_raw()).collect()
    }

    /// What the most recent `map` sent, received and cost the workers.
    pub fn last_map(&self) -> &MapReport {
        &self.last_map
    }

    /// CPU time all workers have reported so far (their whole lives, as of their latest result).
    pub fn workers_cpu(&self) -> Duration {
        self.workers.iter().map(|worker| worker.cpu_reported).sum()
    }

    /// Applies the workers' function to every item; results in the order of the items, as
    /// Python's `Pool.map` returns them. Items are sent `chunk_size` at a time: a worker gets
    /// its next chunk when it has returned every result of its last one.
    pub fn map<E: EncodeAs<I>>(
        &mut self,
        items: impl IntoIterator<Item = E>,
        chunk_size: usize,
    ) -> Result<Vec<O>, PoolError> {
        let mut slots: Vec<Option<O>> = Vec::new();
        self.map_with(items, chunk_size, |index, value| {
            if slots.len() <= index {
                slots.resize_with(index + 1, || None);
            }
            slots[index] = Some(value);
        })?;
        slots
            .into_iter()
            .enumerate()
            .map(|(index, value)| value.ok_or_else(|| PoolError::Protocol(format!("no result for item {index}"))))
            .collect()
    }

    /// Like [`ProcessPool::map`], but returns `(item index, result)` pairs in the order the
    /// results arrived, as Python's `imap_unordered` yields them.
    pub fn map_in_completion_order<E: EncodeAs<I>>(
        &mut self,
        items: impl IntoIterator<Item = E>,
        chunk_size: usize,
    ) -> Result<Vec<(usize, O)>, PoolError> {
        let mut arrived = Vec::new();
        self.map_with(items, chunk_size, |index, value| arrived.push((index, value)))?;
        Ok(arrived)
    }

    /// [`ProcessPool::map`] timed by [`timing::measure`], with the CPU time the workers spent
    /// on it counted as children's CPU. The workers outlive the measurement, so the kernel
    /// charges nothing to `RUSAGE_CHILDREN` until they are reaped; instead each worker reports
    /// its own CPU clock with every batch of results, and the increase is added here.
    pub fn measured_map<E: EncodeAs<I>>(
        &mut self,
        items: impl IntoIterator<Item = E>,
        chunk_size: usize,
    ) -> Result<(Vec<O>, timing::Measurement), PoolError> {
        let (results, mut measurement) = timing::measure(|| self.map(items, chunk_size));
        let results = results?;
        measurement.children += self.last_map.worker_cpu;
        Ok((results, measurement))
    }

    /// The engine under every map: hands out chunks, calls `on_result(index, value)` for each
    /// result as it arrives, and reports what it did.
    pub fn map_with<E: EncodeAs<I>>(
        &mut self,
        items: impl IntoIterator<Item = E>,
        chunk_size: usize,
        mut on_result: impl FnMut(usize, O),
    ) -> Result<MapReport, PoolError> {
        if let Some(first) = &self.broken {
            return Err(PoolError::Broken(first.clone()));
        }
        let mut feed = Feed {
            items: items.into_iter(),
            next_index: 0,
            chunk_size: chunk_size.max(1),
            message: Vec::new(),
        };
        let cpu_before = self.workers_cpu();
        let mut report = MapReport {
            items_per_worker: vec![0; self.workers.len()],
            ..MapReport::default()
        };
        let mut in_flight: Vec<Option<InFlight>> = vec![None; self.workers.len()];

        // Every worker gets a first chunk; after that, whoever finishes gets the next.
        for (worker, chunk) in in_flight.iter_mut().enumerate() {
            *chunk = self.send_chunk(worker, &mut feed, &mut report)?;
        }
        let mut frame = Vec::new();
        while in_flight.iter().any(Option::is_some) {
            for worker in self.wait_for_results(&in_flight)? {
                let Some(mut chunk) = in_flight[worker] else { continue };
                match self.receive(worker, &mut frame) {
                    Ok(true) => {}
                    Ok(false) => return Err(self.worker_died(worker)),
                    Err(error) => return Err(self.fail(PoolError::Protocol(error.to_string()))),
                }
                report.bytes_received += 4 + frame.len() as u64;
                let (cpu, first, values) = match decode_batch::<O>(&frame) {
                    Ok(batch) => batch,
                    Err(error) => return Err(self.fail(PoolError::Protocol(error.to_string()))),
                };
                if first != chunk.first + chunk.received || chunk.received + values.len() > chunk.count {
                    return Err(self.fail(PoolError::Protocol(format!(
                        "worker {worker} returned items from {first} that were not expected"
                    ))));
                }
                self.workers[worker].cpu_reported = cpu;
                chunk.received += values.len();
                report.items_per_worker[worker] += values.len();
                for (offset, value) in values.into_iter().enumerate() {
                    on_result(first + offset, value);
                }
                in_flight[worker] = if chunk.received == chunk.count {
                    self.workers[worker].busy = false;
                    self.send_chunk(worker, &mut feed, &mut report)?
                } else {
                    Some(chunk)
                };
            }
        }
        report.items = feed.next_index;
        report.worker_cpu = self.workers_cpu().saturating_sub(cpu_before);
        self.last_map = report.clone();
        Ok(report)
    }

    /// Sends the next chunk of items to `worker`, or nothing when the items are used up.
    fn send_chunk<E: EncodeAs<I>>(
        &mut self,
        worker: usize,
        feed: &mut Feed<impl Iterator<Item = E>>,
        report: &mut MapReport,
    ) -> Result<Option<InFlight>, PoolError> {
        let Feed {
            items,
            next_index,
            chunk_size,
            message,
        } = feed;
        // Frame: length (u32), first item index (u64), item count (u32), then the items.
        message.clear();
        message.extend_from_slice(&[0; 4]);
        (*next_index as u64).encode(message);
        message.extend_from_slice(&[0; 4]);
        let mut count = 0usize;
        for item in items.by_ref().take(*chunk_size) {
            item.encode_as(message);
            count += 1;
        }
        if count == 0 {
            return Ok(None);
        }
        let Some(length) = u32::try_from(message.len() - 4)
            .ok()
            .filter(|&length| length as usize <= MAX_FRAME)
        else {
            return Err(self.fail(PoolError::Protocol(format!(
                "a chunk of {count} items encodes to {} bytes; use a smaller chunk size",
                message.len()
            ))));
        };
        message[..4].copy_from_slice(&length.to_le_bytes());
        message[12..16].copy_from_slice(&(count as u32).to_le_bytes());
        let chunk = InFlight {
            first: *next_index,
            count,
            received: 0,
        };
        *next_index += count;
        let sent = match self.workers[worker].tasks.as_mut() {
            Some(tasks) => tasks.write_all(message),
            None => Err(ErrorKind::BrokenPipe.into()),
        };
        if sent.is_err() {
            // The worker is gone (EPIPE: nobody reads its pipe any more). Rust ignores
            // SIGPIPE, so the write fails instead of killing this process.
            return Err(self.worker_died(worker));
        }
        self.workers[worker].busy = true;
        report.chunks += 1;
        report.bytes_sent += message.len() as u64;
        Ok(Some(chunk))
    }

    /// Blocks until at least one busy worker has something to read (or has died); returns them.
    fn wait_for_results(&mut self, in_flight: &[Option<InFlight>]) -> Result<Vec<usize>, PoolError> {
        let busy: Vec<usize> = (0..self.workers.len())
            .filter(|&w| in_flight[w].is_some() && self.workers[w].results.is_some())
            .collect();
        let outcome = loop {
            let mut fds: Vec<PollFd> = busy
                .iter()
                .filter_map(|&w| self.workers[w].results.as_ref())
                .map(|file| PollFd::new(file.as_fd(), PollFlags::POLLIN))
                .collect();
            match poll(&mut fds, PollTimeout::NONE) {
                // Readable, hung up (the worker died) or in error: all are read next, and
                // reading tells which.
                Ok(_) => {
                    break Ok(busy
                        .iter()
                        .zip(&fds)
                        .filter(|(_, fd)| fd.revents().is_some_and(|events| !events.is_empty()))
                        .map(|(&w, _)| w)
                        .collect());
                }
                // A signal arrived (Ctrl-C ends the process from its handler): poll again.
                Err(nix::errno::Errno::EINTR) => continue,
                Err(error) => break Err(error),
            }
        };
        outcome.map_err(|error| self.fail(PoolError::Protocol(format!("poll failed: {error}"))))
    }

    /// Reads one result frame from `worker`; false at end-of-file (the worker has ended).
    fn receive(&mut self, worker: usize, frame: &mut Vec<u8>) -> std::io::Result<bool> {
        match self.workers[worker].results.as_mut() {
            Some(results) => read_frame(results, frame),
            None => Ok(false),
        }
    }

    /// A worker's pipe ended: find what it was doing and how it ended, stop the others.
    fn worker_died(&mut self, worker: usize) -> PoolError {
        // The worker stored the index of the item it started (plus one) in its shared slot.
        let item = match self.slots.get(worker).load(Ordering::Relaxed) {
            0 => None,
            started => Some(started as usize - 1),
        };
        let pid = self.workers[worker].pid;
        // Its end of the pipe is closed, so it has exited or is about to: wait for it.
        self.workers[worker].close_pipes();
        let how = match children::wait(pid) {
            Ok(WaitStatus::Exited(_, code)) => format!("exited with status {code}{}", exit_reason(code)),
            Ok(WaitStatus::Signaled(_, signal, _)) => format!("was killed by {signal}"),
            Ok(other) => format!("ended ({other:?})"),
            Err(error) => format!("could not be waited for ({error})"),
        };
        self.workers[worker].reaped = true;
        self.fail(PoolError::WorkerDied {
            worker,
            pid: pid.as_raw(),
            item,
            how,
        })
    }

    /// Marks the pool broken, stops and reaps every worker, and passes the error on.
    fn fail(&mut self, error: PoolError) -> PoolError {
        self.broken = Some(error.to_string());
        self.stop_workers(true);
        error
    }

    /// Closes every pipe and reaps every worker. With `kill`, workers are first sent SIGKILL
    /// (they may be in the middle of an item); without, they end by themselves when their task
    /// pipe reaches end-of-file.
    fn stop_workers(&mut self, kill_first: bool) -> Vec<(usize, WaitStatus)> {
        let mut statuses = Vec::new();
        for worker in &mut self.workers {
            if !worker.reaped && (kill_first || worker.busy) {
                let _ = kill(worker.pid, Signal::SIGKILL);
            }
            worker.close_pipes();
        }
        for (index, worker) in self.workers.iter_mut().enumerate() {
            if !worker.reaped {
                if let Ok(status) = children::wait(worker.pid) {
                    statuses.push((index, status));
                }
                worker.reaped = true;
            }
        }
        statuses
    }

    /// Tells every worker to stop (end-of-file on its task pipe), reaps them all, and checks
    /// that each ended normally. Reaping adds the workers' CPU time to this process's
    /// `RUSAGE_CHILDREN`: shut a pool down outside any measurement it should not count in.
    pub fn shutdown(mut self) -> Result<(), PoolError> {
        if let Some(first) = self.broken.take() {
            return Err(PoolError::Broken(first));
        }
        let statuses = self.stop_workers(false);
        for (worker, status) in statuses {
            if !matches!(status, WaitStatus::Exited(_, 0)) {
                return Err(PoolError::WorkerDied {
                    worker,
                    pid: self.workers[worker].pid.as_raw(),
                    item: None,
                    how: format!("ended badly at shutdown ({status:?})"),
                });
            }
        }
        Ok(())
    }
}

impl<I, O> Drop for ProcessPool<I, O> {
    fn drop(&mut self) {
        // A pool dropped in the middle of work (an error, a panic in a callback) kills busy
        // workers rather than waiting for their items; idle ones end at end-of-file.
        for worker in &mut self.workers {
            if !worker.reaped && worker.busy {
                let _ = kill(worker.pid, Signal::SIGKILL);
            }
            worker.close_pipes();
        }
        for worker in &mut self.workers {
            if !worker.reaped {
                let _ = children::wait(worker.pid);
                worker.reaped = true;
            }
        }
    }
}

/// Exit statuses of a worker that gives up for a reason of the pool's own (a panic in the
/// work function ends it with 101, as any forked child).
const EXIT_NO_PIPES: i32 = 70;
const EXIT_BAD_READ: i32 = 71;
const EXIT_BAD_MESSAGE: i32 = 72;
const EXIT_CANNOT_REPLY: i32 = 73;

/// What a worker's exit status means, when it is one the pool gives it.
fn exit_reason(code: i32) -> &'static str {
    match code {
        101 => " (the work function panicked)",
        EXIT_NO_PIPES => " (it could not use its pipes)",
        EXIT_BAD_READ => " (reading its next chunk failed)",
        EXIT_BAD_MESSAGE => " (it received a chunk it could not decode)",
        EXIT_CANNOT_REPLY => " (it could not send its results: a result too large, or the parent stopped reading)",
        _ => "",
    }
}

/// The body of a worker process: read a chunk, compute each item, send results back in
/// batches; stop at end-of-file. Returns the exit status.
fn worker_loop<I: Wire, O: Wire>(slot: &AtomicU64, tasks: &OwnedFd, results: &OwnedFd, work: &impl Fn(I) -> O) -> i32 {
    let (Ok(tasks), Ok(results)) = (tasks.try_clone(), results.try_clone()) else {
        return EXIT_NO_PIPES;
    };
    let mut tasks = File::from(tasks);
    let mut results = File::from(results);
    let mut frame = Vec::new();
    let mut batch = Vec::new();
    loop {
        match read_frame(&mut tasks, &mut frame) {
            Ok(true) => {}
            Ok(false) => return 0, // the pool is shutting down
            Err(_) => return EXIT_BAD_READ,
        }
        let mut input = &frame[..];
        let (Ok(first), Ok(count)) = (u64::decode(&mut input), u32::decode(&mut input)) else {
            return EXIT_BAD_MESSAGE;
        };
        let (first, count) = (first as usize, count as usize);
        let mut batch_first = first;
        start_batch(&mut batch, batch_first);
        let mut in_batch = 0u32;
        for index in first..first + count {
            let Ok(item) = I::decode(&mut input) else {
                return EXIT_BAD_MESSAGE;
            };
            // Relaxed is enough: the slot carries only this number, which the parent reads
            // after this process has died and been reaped, and exit and wait order memory.
            slot.store(index as u64 + 1, Ordering::Relaxed);
            let result = work(item);
            slot.store(0, Ordering::Relaxed);
            result.encode(&mut batch);
            in_batch += 1;
            if batch.len() >= FLUSH_BYTES || index + 1 == first + count {
                if finish_batch(&mut batch, in_batch).is_err() || results.write_all(&batch).is_err() {
                    return EXIT_CANNOT_REPLY;
                }
                batch_first = index + 1;
                start_batch(&mut batch, batch_first);
                in_batch = 0;
            }
        }
    }
}

/// A result frame: length (u32), the worker's CPU time in ns (u64), the first item's index
/// (u64), the number of results (u32), then the results.
fn start_batch(batch: &mut Vec<u8>, first: usize) {
    batch.clear();
    batch.extend_from_slice(&[0; 12]); // length and CPU time, filled in when sent
    (first as u64).encode(batch);
    batch.extend_from_slice(&[0; 4]);
}

fn finish_batch(batch: &mut [u8], count: u32) -> Result<(), ()> {
    let length = u32::try_from(batch.len() - 4)
        .ok()
        .filter(|&length| length as usize <= MAX_FRAME)
        .ok_or(())?;
    // The CPU clock is read last, so it includes encoding this batch.
    let cpu = own_cpu_time().as_nanos().min(u128::from(u64::MAX)) as u64;
    batch[..4].copy_from_slice(&length.to_le_bytes());
    batch[4..12].copy_from_slice(&cpu.to_le_bytes());
    batch[20..24].copy_from_slice(&count.to_le_bytes());
    Ok(())
}

fn decode_batch<O: Wire>(frame: &[u8]) -> Result<(Duration, usize, Vec<O>), WireError> {
    let mut input = frame;
    let cpu = Duration::from_nanos(u64::decode(&mut input)?);
    let first = u64::decode(&mut input)? as usize;
    let count = u32::decode(&mut input)? as usize;
    let mut values = Vec::with_capacity(count.min(input.len()));
    for _ in 0..count {
        values.push(O::decode(&mut input)?);
    }
    if !input.is_empty() {
        return Err(WireError(format!("{} stray bytes after the results", input.len())));
    }
    Ok((cpu, first, values))
}

/// Reads one length-prefixed frame into `frame`. False at a clean end-of-file (before a
/// frame starts); an error when the stream ends inside a frame.
fn read_frame(source: &mut File, frame: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut length = [0u8; 4];
    let mut filled = 0;
    while filled < 4 {
        match source.read(&mut length[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    }
    let length = u32::from_le_bytes(length) as usize;
    if length > MAX_FRAME {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("a frame of {length} bytes"),
        ));
    }
    frame.resize(length, 0);
    source.read_exact(frame)?;
    Ok(true)
}

/// A pipe whose ends are closed when this process (or a worker) runs another program, so that
/// a program started with `exec` never holds a pool's pipe open.
fn close_on_exec_pipe() -> Result<(OwnedFd, OwnedFd), PoolError> {
    use nix::fcntl::{F_SETFD, FdFlag, fcntl};
    let failed = |e: nix::errno::Errno| PoolError::Start(format!("pipe failed: {e}"));
    let (read, write) = nix::unistd::pipe().map_err(failed)?;
    for end in [&read, &write] {
        fcntl(end, F_SETFD(FdFlag::FD_CLOEXEC)).map_err(failed)?;
    }
    Ok((read, write))
}

/// This process's CPU time (all threads, user + system).
fn own_cpu_time() -> Duration {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default()
}

/// In a new worker: close the parent's ends of every pool's pipes, this pool's included.
fn close_other_pools_pipes() {
    let ends = PARENT_PIPE_ENDS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for fd in ends {
        let _ = nix::unistd::close(fd);
    }
}

fn forget_parent_ends(fds: &[RawFd]) {
    let mut ends = PARENT_PIPE_ENDS.lock().unwrap_or_else(|e| e.into_inner());
    ends.retain(|fd| !fds.contains(fd));
}

/// One counter per worker in memory shared by the parent and every worker (an anonymous
/// `MAP_SHARED` mapping made before the forks): each worker writes the index of the item it
/// is computing there, so that when it dies, the parent knows which item killed it.
struct SharedSlots {
    base: std::ptr::NonNull<std::ffi::c_void>,
    len: usize,
    bytes: usize,
}

impl SharedSlots {
    fn new(len: usize) -> Result<Self, PoolError> {
        use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};
        let bytes = (len * std::mem::size_of::<AtomicU64>()).max(1);
        let size = std::num::NonZeroUsize::new(bytes).ok_or_else(|| PoolError::Start("empty mapping".into()))?;
        // Safety: a fresh anonymous mapping at an address the kernel chooses overlaps nothing
        // Rust owns. It is zero-filled and page-aligned, which is a valid, aligned AtomicU64
        // array, and it is unmapped only in Drop, after the last use through `get`.
        let base = unsafe {
            mmap_anonymous(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .map_err(|e| PoolError::Start(format!("mmap failed: {e}")))?;
        Ok(SharedSlots { base, len, bytes })
    }

    fn get(&self, index: usize) -> &AtomicU64 {
        assert!(index < self.len, "slot {index} of {}", self.len);
        // Safety: `index` is in bounds (checked above) of a live, aligned, zero-initialised
        // mapping of `len` AtomicU64s (see `new`); atomics may be shared between processes.
        unsafe { &*self.base.cast::<AtomicU64>().as_ptr().add(index) }
    }
}

impl Drop for SharedSlots {
    fn drop(&mut self) {
        // Safety: `base` and `bytes` are exactly what mmap returned and was given; no reference
        // from `get` outlives `self`, which is being dropped.
        let _ = unsafe { nix::sys::mman::munmap(self.base, self.bytes) };
    }
}
