//! Processes that find each other over TCP before the dataflow starts.
//!
//! Timely dataflow's cluster mode needs one connected TCP stream between every pair of
//! processes, and every process must know every address up front. Its own set-up code retries
//! forever and prints progress on stdout; here [`connect_mesh`] makes the connections, gives up
//! after a deadline, and checks that both ends belong to the same run, before they are handed
//! to timely.

use crate::corpus::Corpus;
use crate::job::Job;
use anyhow::{Context, anyhow, bail};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The first eight bytes each end of a connection sends: "lesson11".
const MAGIC: u64 = u64::from_be_bytes(*b"lesson11");

/// A number that every process of one run must agree on: it covers the number of processes,
/// the corpus and the jobs. A process started with other flags is refused at the handshake.
pub fn fingerprint(processes: usize, corpus: &Corpus, jobs: &[Job]) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map_reduce::Shuffle;

    #[test]
    fn fingerprints_differ_when_settings_do() {
        let corpus = Corpus {
            seed: 1,
            blocks: 4,
            block_bytes: 100,
        };
        let base = fingerprint(2, &corpus, &[Job(Shuffle::Combined)]);
        assert_eq!(base, fingerprint(2, &corpus, &[Job(Shuffle::Combined)]));
        assert_ne!(base, fingerprint(3, &corpus, &[Job(Shuffle::Combined)]));
        assert_ne!(
            base,
            fingerprint(2, &Corpus { seed: 2, ..corpus }, &[Job(Shuffle::Combined)])
        );
        assert_ne!(base, fingerprint(2, &corpus, &[Job(Shuffle::EveryWord)]));
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
