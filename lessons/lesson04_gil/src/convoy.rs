//! The convoy measurement of section 6: a client outside the interpreter sends requests over
//! a socket; an interpreter thread blocks reading each one (the GIL released, `gil.rs` rule 3),
//! then needs the GIL for one step to answer, while CPU-bound neighbours compute, as threads of
//! the same interpreter or in processes of their own.

use crate::gil::Gil;
use crate::interpreter::Interpreter;
use crate::processes::Neighbours;
use crate::turns::GilStats;
use anyhow::Context;
use course::timing::Latencies;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;
use workloads::Rng;

/// One convoy measurement: who runs next to the I/O thread, and how.
#[derive(Clone, Debug)]
pub struct ConvoySetup {
    pub name: String,
    /// None: no GIL.
    pub switch_interval: Option<Duration>,
    pub cpu_neighbours: usize,
    /// The CPU-bound neighbours run in their own processes instead of as threads.
    pub in_processes: bool,
}

/// What one convoy measurement found.
pub struct ConvoyRun {
    pub latencies: Latencies,
    pub gil: GilStats,
    pub overlapping_steps: u64,
}

/// Measures the I/O thread's reply times with `setup`'s neighbours running.
pub fn measure_convoy(setup: &ConvoySetup, requests: usize, seed: u64) -> anyhow::Result<ConvoyRun> {
    // Neighbours in processes are forked first, while this process has a single thread; they
    // compute until they are killed (and reaped) when `neighbour_processes` drops.
    let _neighbour_processes = if setup.in_processes {
        let switch_interval = setup.switch_interval.unwrap_or(Duration::from_millis(5));
        Some(Neighbours::fork(setup.cpu_neighbours, switch_interval)?)
    } else {
        None
    };
    let gil = setup.switch_interval.map_or_else(Gil::disabled, Gil::new);
    let interpreter = Interpreter::new(gil);
    let in_threads = if setup.in_processes { 0 } else { setup.cpu_neighbours };
    // A TCP connection over loopback, as the CPython twin's: how long a send takes decides
    // whether the I/O thread is back before a woken waiter has taken the GIL.
    let (client, server) = connected_pair()?;
    let stop = AtomicBool::new(false);
    let mut gaps = Rng::new(seed);
    let gaps: Vec<Duration> = (0..requests)
        .map(|_| Duration::from_micros(gaps.between(1_000, 3_000)))
        .collect();
    let latencies = thread::scope(|scope| -> anyhow::Result<Latencies> {
        let (interpreter, stop) = (&interpreter, &stop);
        // Whatever happens below, the neighbours stop before the scope joins them.
        let _stop_on_exit = StopOnDrop(stop);
        for thread in 0..in_threads {
            thread::Builder::new()
                .spawn_scoped(scope, move || interpreter.run_until(thread, stop))
                .with_context(|| format!("could not start CPU-bound neighbour {}", thread + 1))?;
        }
        let server = thread::Builder::new()
            .spawn_scoped(scope, move || serve(interpreter, in_threads, server, requests))
            .context("could not start the I/O thread")?;
        let client_result = ask(client, &gaps);
        stop.store(true, Ordering::Relaxed);
        let served = server.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let latencies = client_result?;
        served?;
        Ok(latencies)
    })?;
    Ok(ConvoyRun {
        latencies,
        gil: interpreter.gil().stats(),
        overlapping_steps: interpreter.overlapping_steps(),
    })
}

/// Sets the flag when dropped: the CPU-bound neighbours stop, also on an early return.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        // Relaxed: the neighbours only need to see the flag eventually; nothing else is
        // published through it (the scope's joins order everything else).
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The client, outside the interpreter (a remote peer): after each gap, sends a request and
/// times how long the reply takes. Dropping the socket at the end (or on an error) ends the
/// server's wait.
fn ask(mut client: TcpStream, gaps: &[Duration]) -> anyhow::Result<Latencies> {
    let mut latencies = Latencies::new();
    let mut reply = [0u8; 8];
    for (index, gap) in gaps.iter().enumerate() {
        thread::sleep(*gap);
        latencies.time(|| -> std::io::Result<()> {
            client.write_all(&(index as u64).to_le_bytes())?;
            client.read_exact(&mut reply)
        })?;
    }
    Ok(latencies)
}

/// A client and a server end of one TCP connection on 127.0.0.1, on a port the OS picks; the
/// listener is closed once the server end is accepted.
fn connected_pair() -> std::io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    Ok((client, server))
}

/// The server, an interpreter thread: blocks reading each request with the GIL released,
/// takes the GIL back to handle it (one step), and replies.
fn serve(interpreter: &Interpreter, thread: usize, mut socket: TcpStream, requests: usize) -> std::io::Result<()> {
    let mut held = interpreter.gil().acquire(thread);
    let mut request = [0u8; 8];
    for _ in 0..requests {
        held.release_around(|| socket.read_exact(&mut request))?;
        let reply = interpreter.step(&mut held, u64::from_le_bytes(request));
        held.release_around(|| socket.write_all(&reply.to_le_bytes()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_convoy_is_measured_with_and_without_the_gil() {
        for switch_interval in [Some(Duration::from_millis(1)), None] {
            let setup = ConvoySetup {
                name: "test".to_string(),
                switch_interval,
                cpu_neighbours: 2,
                in_processes: false,
            };
            let run = measure_convoy(&setup, 5, 1).unwrap();
            assert_eq!(run.latencies.count(), 5);
            if switch_interval.is_some() {
                assert_eq!(run.overlapping_steps, 0);
                assert!(run.gil.most_turns_waited <= 2);
            }
        }
    }
}
