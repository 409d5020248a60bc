//! # Lesson 11 · Beyond one machine
//!
//! **Objective.** Run one computation across several operating-system processes that share no
//! memory and talk only over TCP, as machines in a cluster do, on a real distributed dataflow
//! engine (timely dataflow). The job is a word count: the data is *scattered* among the
//! processes, each *maps* its lines to words, the words are *exchanged by key* between
//! processes (the *shuffle* of map/reduce) so that each word is counted in one place, and the
//! counts are *gathered* on process 0, then checked against a sequential count. Each step is
//! one column of the lecture's table: ipyparallel's scatter/map/gather, Hadoop's map/reduce,
//! Spark's graph of operators.
//!
//! **What to observe.** Which process got which blocks; how many records each process sent to
//! each other one, and that every one arrived; that the distributed answer is exactly the
//! sequential one; how a combiner (counting locally first) shrinks the shuffle; and what
//! starting processes and shipping data to them cost on one machine, against what the extra
//! cores save and against threads. Distribution pays when the data or the work outgrows one
//! machine.
//!
//! **How to run.** `cargo run -p lesson11_distributed` (add `--quick`, `--json`, `--step`;
//! `--processes N`, `--blocks N`, `--block-kib N`). Across machines: write a hosts file with
//! one `host:port` per line and start `lesson11_distributed --hosts FILE --process-index I` on
//! machine I (see the README).
//!
//! Read first: src/map_reduce.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. The cluster plumbing lives apart: `cluster.rs` (starting workers, running a
//! session), `mesh.rs` (every process connected to every other), `job.rs` (one job on one
//! process, its traffic read from timely's log), `room.rs` (how many processes fit),
//! `hosts_file.rs`, `corpus.rs` (the generated data) and `answer.rs` (how an answer is shown).

mod answer;
mod cluster;
mod corpus;
mod hosts_file;
mod job;
mod map_reduce;
mod mesh;
mod room;
mod sections;

use clap::Parser;
use corpus::Corpus;
use course::Section;
use hosts_file::{HostsFile, read_hosts_file};
use sections::*;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 11: beyond one machine. A word count run by several OS processes that talk over \
TCP on a distributed dataflow engine (timely dataflow): the scatter of the data, the map, the shuffle \
of words by key between processes, the gather, the answer checked against a sequential count, the \
time against one process and against threads, and when distribution pays."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Worker processes to start on this machine [default: the available cores, at least 2, at
    /// most 8, and as many as the machine's limits allow]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 64), conflicts_with = "hosts")]
    processes: Option<usize>,
    /// Blocks in the corpus [default: 64, or 4 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1024))]
    blocks: Option<usize>,
    /// Size of one block in KiB [default: 512, or 32 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1024))]
    block_kib: Option<usize>,
    /// Run as one process of a cluster: a file with one host:port per line, process 0 first;
    /// start the same command on every machine, each with its --process-index
    #[arg(long, value_name = "FILE", value_parser = read_hosts_file, requires = "process_index")]
    hosts: Option<HostsFile>,
    /// This machine's process index: the position of its address among the addresses in
    /// --hosts, counting from 0 (comments and blank lines do not count)
    #[arg(long, value_name = "INDEX", requires = "hosts")]
    process_index: Option<usize>,
    /// How long processes wait for each other to connect, in milliseconds [default: 20000]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(100, 3_600_000))]
    #[serde(skip)]
    connect_timeout: Option<Duration>,
    /// Internal: run as worker process INDEX of a local cluster, talking to the parent over
    /// stdin and stdout.
    #[arg(long, hide = true)]
    #[serde(skip)]
    worker: Option<usize>,
}

/// Where the worker processes run.
pub enum Cluster {
    /// Started by this process, on this machine.
    Local,
    /// Started by hand from a hosts file; this is process `index`.
    Hosts { hosts: HostsFile, index: usize },
}

/// What every section reads: the sizes, once defaults are settled, then what earlier sections
/// measured for later ones (`None` until then; a later section computes it itself when the
/// one that would have was skipped).
pub struct Params {
    corpus: Corpus,
    connect_timeout: Duration,
    cluster: Cluster,
    /// Worker processes of a local run (the hosts file's count in a cluster).
    processes: usize,
    text: Option<(String, Vec<usize>)>,
    sequential: Option<map_reduce::WordCount>,
    plain_run: Option<cluster::LocalRun>,
    hosts_outcomes: Option<Vec<job::JobOutcome>>,
    timed: Option<s8_time::Timed>,
}

const DATA: Section<Params> = Section::new("The data, and the answer on one core", s1_data::run);
const PLAN: Section<Params> = Section::new("The plan: scatter, map, shuffle, reduce, gather", s2_plan::run);
const SCATTER_MAP: Section<Params> = Section::new("Scatter and map", s4_scatter_map::run);
const SHUFFLE: Section<Params> = Section::new("The shuffle: words exchanged by key", s5_shuffle::run);
const REDUCE_GATHER: Section<Params> = Section::new("Reduce, gather, and the check", s6_reduce_gather::run);
const COMBINER: Section<Params> = Section::new("A combiner: count locally, then shuffle", s7_combiner::run);
const JOINING: Section<Params> = Section::new("Joining the cluster", s3_joining::run);

/// The lesson on this machine, with worker processes it starts itself.
const SECTIONS: [Section<Params>; 9] = [
    DATA,
    PLAN,
    Section::new("Starting the processes: ports and addresses", s3_processes::run),
    SCATTER_MAP,
    SHUFFLE,
    REDUCE_GATHER,
    COMBINER,
    Section::new("Time: one process against several", s8_time::run),
    Section::new("When distribution pays, and when it does not", s9_when_it_pays::run),
];
/// Process 0 of a hosts-file cluster tells the whole story; the others only join.
const SECTIONS_ON_HOST_ZERO: [Section<Params>; 7] =
    [DATA, PLAN, JOINING, SCATTER_MAP, SHUFFLE, REDUCE_GATHER, COMBINER];
const SECTIONS_ON_OTHER_HOSTS: [Section<Params>; 1] = [JOINING];

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    if let Some(index) = args.worker {
        return cluster::worker_main(index);
    }
    if let (Some(hosts), Some(index)) = (&args.hosts, args.process_index)
        && index >= hosts.addresses.len()
    {
        eprintln!(
            "lesson11_distributed: error: --process-index {index} names no process: the hosts file lists {} \
             addresses, processes 0 to {} (see --help)",
            hosts.addresses.len(),
            hosts.addresses.len() - 1
        );
        return ExitCode::from(2);
    }
    course::run(course::info!("Beyond one machine"), &args.common, &args, |lesson| {
        let corpus = Corpus {
            seed: lesson.seed(),
            blocks: args.blocks.unwrap_or(lesson.pick(4, 64)),
            block_bytes: 1024 * args.block_kib.unwrap_or(lesson.pick(32, 512)),
        };
        let connect_timeout = args.connect_timeout.unwrap_or(Duration::from_secs(20));
        lesson.param("blocks", corpus.blocks);
        lesson.param("block_kib", corpus.block_bytes / 1024);
        lesson.param("connect_timeout_ms", connect_timeout.as_millis() as u64);
        let (cluster, processes) = match (&args.hosts, args.process_index) {
            (Some(hosts), Some(index)) => {
                cluster::exit_on_panic("lesson11_distributed: error".to_string());
                (
                    Cluster::Hosts {
                        hosts: hosts.clone(),
                        index,
                    },
                    hosts.addresses.len(),
                )
            }
            _ => {
                let wanted = args.processes.unwrap_or(lesson.machine().logical_cores.clamp(2, 8));
                (Cluster::Local, room::processes_to_start(lesson, wanted)?)
            }
        };
        lesson.param("processes", processes);
        let sections: &[Section<Params>] = match cluster {
            Cluster::Local => &SECTIONS,
            Cluster::Hosts { index: 0, .. } => &SECTIONS_ON_HOST_ZERO,
            Cluster::Hosts { .. } => &SECTIONS_ON_OTHER_HOSTS,
        };
        lesson.run_sections(&mut Params::new(corpus, connect_timeout, cluster, processes), sections)
    })
}
