//! # Lesson 11 · Beyond one machine
//!
//! **Objective.** Run one computation across several operating-system processes that share no
//! memory and talk only over TCP, as machines in a cluster do, on a real distributed dataflow
//! engine (timely dataflow). The job is a word count and a numeric reduction over a corpus:
//! the data is *scattered* among the processes, each *maps* its lines to words, the words are
//! *exchanged by key* between processes (the *shuffle* of map/reduce) so that each word is
//! counted in one place, and the counts are *gathered* on process 0, then checked against a
//! sequential count. Each step is one column of the lecture's table: ipyparallel's
//! scatter/map/gather, Hadoop's map/reduce, Spark's graph of operators.
//!
//! **What to observe.** Which process got which blocks; how many records each process sent to
//! each other one, and that every one arrived; that the distributed answer is exactly the
//! sequential one; how a combiner (counting locally first) shrinks the shuffle; and what
//! starting processes and shipping data to them cost on one machine, against what the extra
//! cores save. Distribution pays when the data or the work outgrows one machine.
//!
//! **How to run.** `cargo run -p lesson11_distributed` (add `--quick`, `--json`, `--step`;
//! `--processes N`, `--blocks N`, `--block-kib N`). Across machines: write a hosts file with
//! one `host:port` per line and start `lesson11_distributed --hosts FILE --process-index I` on
//! machine I (see the README).

mod cluster;
mod corpus;
mod dataflow;

use clap::Parser;
use cluster::LocalRun;
use corpus::{Corpus, WordCount, count_sequential};
use course::chart::Bars;
use course::table::Table;
use course::timing::{Comparison, Runs, format, measure};
use course::{Lesson, say};
use dataflow::{Gathered, JobOutcome, ProcessReport, Shard, Shuffle};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 11: beyond one machine. A word count and a numeric reduction run by several OS \
processes that talk over TCP on a distributed dataflow engine (timely dataflow): the scatter of the \
data, the map, the shuffle of words by key between processes, the gather, the answer checked against \
a sequential count, the time against one process, and when distribution pays."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Worker processes to start on this machine [default: the available cores, at least 2]
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

/// The addresses listed in a `--hosts` file (reported as a list of addresses), and the line of
/// the file each is on.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(transparent)]
struct HostsFile {
    addresses: Vec<String>,
    #[serde(skip)]
    lines: Vec<usize>,
}

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    if let Some(index) = args.worker {
        return worker_main(index);
    }
    if let (Some(hosts), Some(index)) = (&args.hosts, args.process_index)
        && index >= hosts.addresses.len()
    {
        eprintln!(
            "lesson11_distributed: error: --process-index {index} names no process: the hosts file lists {} addresses, processes 0 to {} (see --help)",
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
        match (&args.hosts, args.process_index) {
            (Some(hosts), Some(index)) => {
                lesson.param("processes", hosts.addresses.len());
                on_hosts(lesson, &corpus, hosts, index, connect_timeout)
            }
            _ => {
                let processes = args.processes.unwrap_or(lesson.machine().logical_cores.clamp(2, 8));
                lesson.param("processes", processes);
                on_this_machine(lesson, &corpus, processes, connect_timeout)
            }
        }
    })
}

/// The lesson with worker processes started here, on 127.0.0.1.
fn on_this_machine(
    lesson: &Lesson,
    corpus: &Corpus,
    processes: usize,
    connect_timeout: Duration,
) -> anyhow::Result<()> {
    let (text, block_starts) = corpus.whole();
    let workload = LocalCluster {
        corpus,
        text: &text,
        block_starts: &block_starts,
        connect_timeout,
    };
    let sequential = the_data_and_the_answer(lesson, corpus, &text);
    the_plan(lesson);
    let demo = starting_the_processes(lesson, &workload, processes)?;
    let gathered = gathered_by_zero(first_outcome(&demo.outcomes)?)?;
    show_scatter_and_map(
        lesson,
        corpus,
        &gathered.reports,
        "the parent sent each process its blocks through a pipe",
    );
    show_shuffle(lesson, &gathered.reports, Shuffle::EveryWord)?;
    show_reduce_and_gather(lesson, gathered, &sequential)?;
    let every_word_records: u64 = gathered.reports.iter().flat_map(|r| r.sent.iter()).sum();
    a_combiner(lesson, &workload, processes, every_word_records)?;
    let timed = one_process_against_several(lesson, &workload, processes)?;
    when_distribution_pays(lesson, &text, processes, &timed);
    Ok(())
}

/// Section 3: start the workers, run the plain map/reduce once, show who listened where.
fn starting_the_processes(lesson: &Lesson, workload: &LocalCluster, processes: usize) -> anyhow::Result<LocalRun> {
    lesson.section("Starting the processes: ports and addresses");
    say!(
        lesson,
        "  Starting {processes} copies of this program as worker processes (`lesson11_distributed --worker I`)."
    );
    let demo = workload.run(processes, Shuffle::EveryWord)?;
    let gathered = gathered_by_zero(first_outcome(&demo.outcomes)?)?;
    show_processes_and_ports(lesson, &gathered.reports, true);
    show_phases(lesson, &demo);
    lesson.notice(
        "Every process had to know every address before the dataflow could start: each worker chose its own free port and the parent passed the list around.",
    );
    Ok(demo)
}

/// Section 7: the same job with a combiner, timed against the plain shuffle.
fn a_combiner(
    lesson: &Lesson,
    workload: &LocalCluster,
    processes: usize,
    every_word_records: u64,
) -> anyhow::Result<()> {
    lesson.section("A combiner: count locally, then shuffle");
    say!(
        lesson,
        "  Hadoop's combiner: each process first counts its own words, then ships one record per"
    );
    say!(
        lesson,
        "  distinct word instead of one per occurrence. Same answer, far fewer records."
    );
    let mut comparison = Comparison::new(format!("word count on {processes} processes")).repeats(0, lesson.pick(1, 2));
    let (mut every_word_run, mut combined_run, mut failure) = (None, None, None);
    comparison.variant(Shuffle::EveryWord.describe(), processes, || {
        workload.answer(processes, Shuffle::EveryWord, &mut every_word_run, &mut failure)
    });
    if let Some(error) = failure.take() {
        return Err(error);
    }
    comparison.variant(Shuffle::Combined.describe(), processes, || {
        workload.answer(processes, Shuffle::Combined, &mut combined_run, &mut failure)
    });
    if let Some(error) = failure.take() {
        return Err(error);
    }
    lesson.compare(comparison)?;
    let combined = combined_run.ok_or_else(|| anyhow::anyhow!("the combined run left no outcome"))?;
    let combined = gathered_by_zero(first_outcome(&combined.outcomes)?)?;
    say!(lesson);
    say!(lesson, "  Records shuffled with the combiner:");
    let combined_records = show_matrix(lesson, &combined.reports)?;
    say!(
        lesson,
        "  {} records instead of {}: {} times fewer.",
        format::count(combined_records),
        format::count(every_word_records),
        ratio_for_humans(every_word_records as f64 / combined_records.max(1) as f64)
    );
    lesson.figure("records_every_word", every_word_records);
    lesson.figure("records_combined", combined_records);
    lesson.figure("combined_reports", &combined.reports);
    lesson.notice(
        "Moving data between machines is the expensive part of map/reduce; a combiner does part of the reduce before the shuffle whenever the reduction can be split (a sum can, a median cannot).",
    );
    Ok(())
}

/// What section 8 measured, for section 9.
struct Timed {
    sequential_s: f64,
    distributed_s: f64,
    /// The N processes' speedup over the sequential count: above 1, they won.
    distributed_speedup: f64,
    last_run: LocalRun,
}

/// Section 8: the sequential count, one worker process and N, each timed whole.
fn one_process_against_several(lesson: &Lesson, workload: &LocalCluster, processes: usize) -> anyhow::Result<Timed> {
    lesson.section("Time: one process against several");
    say!(
        lesson,
        "  Each distributed run below (with the combiner of section 7; section 4's map times were without"
    );
    say!(
        lesson,
        "  it) starts its processes, scatters the blocks, connects, counts and gathers: everything a real"
    );
    say!(lesson, "  job pays for. The sequential count only counts.");
    let mut comparison = Comparison::new("word count of the corpus").repeats(0, lesson.pick(1, 2));
    comparison.variant("sequential, in this process", 1, || count_sequential(workload.text));
    let (mut last_run, mut failure) = (None, None);
    let mut worker_counts = vec![1, processes];
    worker_counts.dedup();
    for workers in worker_counts {
        let name = if workers == 1 {
            "1 worker process".to_string()
        } else {
            format!("{workers} worker processes")
        };
        comparison.variant(name, workers, || {
            workload.answer(workers, Shuffle::Combined, &mut last_run, &mut failure)
        });
        if let Some(error) = failure.take() {
            return Err(error);
        }
    }
    let report = lesson.compare(comparison)?;
    let last_run = last_run.ok_or_else(|| anyhow::anyhow!("the distributed run left no outcome"))?;
    say!(lesson);
    say!(lesson, "  Where the time of the last {processes}-process run went:");
    show_phases(lesson, &last_run);
    let distributed_speedup = report.rows.last().map_or(0.0, |row| row.speedup);
    lesson.figure("distributed_speedup", distributed_speedup);
    let size = format::bytes(workload.text.len() as u64);
    if distributed_speedup > 1.0 {
        lesson.notice(&format!(
            "With {size} of text the {processes} processes win ({}) despite starting up and copying the data; on one machine, threads would win by more, with no copies and no serialization (lesson 06).",
            format::times(distributed_speedup)
        ));
    } else {
        lesson.notice(&format!(
            "With {size} of text one core wins: processes add costs that threads do not have (start-up, copying the data, serializing records), and here they outweigh the extra cores.",
        ));
    }
    Ok(Timed {
        sequential_s: report.rows.first().map_or(0.0, |row| row.median_s),
        distributed_s: report.rows.last().map_or(0.0, |row| row.median_s),
        distributed_speedup,
        last_run,
    })
}

/// The corpus and the way to start worker processes on it, on this machine.
struct LocalCluster<'a> {
    corpus: &'a Corpus,
    text: &'a str,
    block_starts: &'a [usize],
    connect_timeout: Duration,
}

impl LocalCluster<'_> {
    /// Starts `processes` workers, runs one job, reaps them.
    fn run(&self, processes: usize, shuffle: Shuffle) -> anyhow::Result<LocalRun> {
        cluster::run_local(
            self.corpus,
            self.text,
            self.block_starts,
            processes,
            &[shuffle],
            self.connect_timeout,
        )
    }

    /// [`LocalCluster::run`] as a timed variant of a comparison, which must return an answer:
    /// the answer gathered on process 0, the run kept in `last_run`; on failure, an empty
    /// answer and the error in `failure`, for the caller to return right after the variant.
    fn answer(
        &self,
        processes: usize,
        shuffle: Shuffle,
        last_run: &mut Option<LocalRun>,
        failure: &mut Option<anyhow::Error>,
    ) -> WordCount {
        let answer = self.run(processes, shuffle).and_then(|run| {
            let answer = gathered_by_zero(first_outcome(&run.outcomes)?)?.answer.clone();
            *last_run = Some(run);
            Ok(answer)
        });
        answer.unwrap_or_else(|error| {
            failure.get_or_insert(error);
            WordCount::default()
        })
    }
}

/// The lesson as one process of a cluster listed in a hosts file, each process started by hand.
fn on_hosts(
    lesson: &Lesson,
    corpus: &Corpus,
    hosts_file: &HostsFile,
    index: usize,
    connect_timeout: Duration,
) -> anyhow::Result<()> {
    install_exit_on_panic();
    let hosts = hosts_file.addresses.as_slice();
    let processes = hosts.len();
    let jobs = [Shuffle::EveryWord, Shuffle::Combined];
    let sequential = if index == 0 {
        let (text, _) = corpus.whole();
        let sequential = the_data_and_the_answer(lesson, corpus, &text);
        the_plan(lesson);
        Some(sequential)
    } else {
        None
    };

    lesson.section("Joining the cluster");
    let line = hosts_file.lines.get(index).copied().unwrap_or(index + 1);
    say!(
        lesson,
        "  This is process {index} of {processes}, listening on {}: address {index} of the hosts file counting",
        hosts[index]
    );
    say!(
        lesson,
        "  from 0, on line {line} of the file (comments and blank lines are not processes)."
    );
    lesson.figure("process_index", index);
    lesson.figure("hosts_file_line", line);
    say!(
        lesson,
        "  Waiting up to {} for the others to connect …",
        format::duration(connect_timeout)
    );
    let listener = std::net::TcpListener::bind(hosts[index].as_str())
        .map_err(|error| anyhow::anyhow!("cannot listen on {}: {error}", hosts[index]))?;
    let blocks = corpus.blocks_of(index, processes);
    // No parent to scatter the data: each machine reads (here: generates) its own blocks, as
    // Hadoop runs each map task where its block is stored.
    let shard = Shard {
        text: corpus.text_of(blocks.clone()),
        blocks,
    };
    let deadline = Instant::now() + connect_timeout;
    let fingerprint = cluster::fingerprint(processes, corpus, &jobs);
    let outcomes = cluster::run_session(index, listener, hosts, shard, &jobs, fingerprint, deadline)?;
    let own = first_outcome(&outcomes)?;
    say!(
        lesson,
        "  Connected; this process mapped {} words from blocks {}, sent {} records and received {}.",
        format::count(own.report.words_mapped),
        block_range(&own.report.blocks),
        format::count(own.report.sent.iter().sum()),
        format::count(own.report.received.iter().sum())
    );
    lesson.figure("report", &own.report);
    let Some(sequential) = sequential else {
        lesson.notice("The answer and the whole story are gathered on process 0: see its output.");
        return Ok(());
    };
    say!(lesson);
    let gathered = gathered_by_zero(own)?;
    show_processes_and_ports(lesson, &gathered.reports, false);
    lesson.notice("All processes connected to each other: one TCP connection per pair, made before any data moved.");

    show_scatter_and_map(
        lesson,
        corpus,
        &gathered.reports,
        "each machine generated its own blocks",
    );
    show_shuffle(lesson, &gathered.reports, Shuffle::EveryWord)?;
    show_reduce_and_gather(lesson, gathered, &sequential)?;

    lesson.section("A combiner: count locally, then shuffle");
    let mut comparison = Comparison::new(format!("word count on {processes} machines"));
    for outcome in &outcomes {
        let gathered = gathered_by_zero(outcome)?;
        // Timed inside process 0, from the start of the job to the end of its dataflow (which
        // ends last there: it waits for everyone's records).
        let measurement = course::timing::Measurement {
            wall: Duration::from_secs_f64(outcome.report.dataflow_s),
            user: Duration::from_secs_f64(outcome.report.cpu_s),
            ..Default::default()
        };
        comparison.add_measured(
            outcome.shuffle.describe(),
            processes,
            vec![gathered.answer.clone()],
            Runs::from(measurement),
        );
    }
    lesson.compare(comparison)?;
    say!(
        lesson,
        "  (Timed on process 0, from the start of each job to the end of its dataflow; both on all {processes} processes.)"
    );
    if let Some(combined) = outcomes.get(1) {
        say!(lesson);
        show_matrix(lesson, &gathered_by_zero(combined)?.reports)?;
    }
    lesson.notice("A combiner does part of the reduce before the shuffle: far fewer records cross the network.");
    Ok(())
}

/// Section 1: the corpus, and the word count on one core.
fn the_data_and_the_answer(lesson: &Lesson, corpus: &Corpus, text: &str) -> WordCount {
    lesson.section("The data, and the answer on one core");
    say!(
        lesson,
        "  A corpus of {} blocks of {} ({} in all), generated from seed {}: the stand-in for a",
        corpus.blocks,
        format::bytes(corpus.block_bytes as u64),
        format::bytes(text.len() as u64),
        corpus.seed
    );
    say!(
        lesson,
        "  big file that a distributed file system (HDFS) stores as blocks on many machines."
    );
    let (sequential, measurement) = measure(|| count_sequential(text));
    say!(
        lesson,
        "  Counted on one core in {} ({}):",
        format::duration(measurement.wall),
        format::throughput(text.len() as u64, measurement.wall)
    );
    say!(lesson);
    let mut top: Vec<(&String, &u64)> = sequential.counts.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut bars = Bars::new().width(30);
    for (word, count) in top.iter().take(8) {
        bars.row(word.as_str(), **count as f64, format::count(**count));
    }
    lesson.bars(&bars);
    let totals = sequential.totals;
    say!(
        lesson,
        "  {} words, {} distinct; and the numeric reduction: {} letters in {} lines, {:.3} letters per word.",
        format::count(totals.words),
        sequential.counts.len(),
        format::count(totals.letters),
        format::count(totals.lines),
        totals.mean_word_length()
    );
    lesson.figure("corpus", corpus);
    lesson.figure("corpus_bytes", text.len());
    lesson.figure("words", totals.words);
    lesson.figure("distinct_words", sequential.counts.len());
    lesson.figure("letters", totals.letters);
    lesson.figure("lines", totals.lines);
    lesson.figure("mean_word_length", totals.mean_word_length());
    lesson.figure("sequential_s", measurement.wall.as_secs_f64());
    lesson.notice("This is the answer every distributed run below must reproduce exactly.");
    sequential
}

/// Section 2: the steps, the lecture's table, and the dataflow graph.
fn the_plan(lesson: &Lesson) {
    lesson.section("The plan: scatter, map, shuffle, reduce, gather");
    say!(lesson, "  Each step is a column of the lecture's table of tools:");
    let mut table = Table::new(&["step here", "ipyparallel", "Hadoop", "what moves"])
        .left(1)
        .left(2)
        .left(3);
    table.row([
        "scatter: blocks to processes",
        "scatter (data)",
        "(blocks already on the nodes)",
        "the data, once",
    ]);
    table.row(["map: lines to words", "map (work)", "map", "nothing"]);
    table.row([
        "shuffle: each word to its owner",
        "-",
        "shuffle, between map and reduce",
        "one record per word",
    ]);
    table.row(["reduce: count per word", "-", "reduce", "nothing"]);
    table.row([
        "gather: counts to process 0",
        "gather",
        "(output files)",
        "one record per distinct word",
    ]);
    lesson.table(&table);
    say!(lesson);
    say!(
        lesson,
        "  Spark (and timely dataflow, used here) generalizes this to a graph of operators, a DAG:"
    );
    for line in [
        "",
        "  lines ─▶ map: words ─(exchange by word)─▶ reduce: count ─(exchange to 0)─▶ gathered counts",
        "    └────▶ map: letters, words ─────────────────────────(exchange to 0)─▶ summed totals",
        "",
    ] {
        say!(lesson, "  {line}");
    }
    say!(
        lesson,
        "  Every process builds this same graph and runs it on its own share of the data. An exchange"
    );
    say!(
        lesson,
        "  edge sends each record to the process its key names, over TCP; all other edges stay inside"
    );
    say!(
        lesson,
        "  a process. The processes share no memory, like MPI ranks on different nodes; threads sharing"
    );
    say!(
        lesson,
        "  one memory, as with OpenMP, are the tools of lessons 02 to 06."
    );
    lesson.figure(
        "steps",
        [
            "scatter",
            "map",
            "shuffle (exchange by key)",
            "reduce",
            "gather (exchange to 0)",
        ],
    );
    lesson.notice(
        "Only the exchange edges move data between processes; the whole design of a distributed job is about moving as little as possible across them.",
    );
}

/// The processes and the addresses they listened on, and how the addresses were chosen.
fn show_processes_and_ports(lesson: &Lesson, reports: &[ProcessReport], started_here: bool) {
    let mut table = Table::new(&["process", "pid", "listened on"]).left(2);
    for report in reports {
        table.row([
            report.process.to_string(),
            report.pid.to_string(),
            report.address.clone(),
        ]);
    }
    lesson.table(&table);
    say!(lesson);
    let local = [
        "Timely's cluster mode needs every process's address before any connection is made: process I",
        "dials every lower-numbered process and accepts every higher one. So each worker bound port 0",
        "on 127.0.0.1 (the operating system picks a free port), reported it, and got everyone's list.",
        "It keeps its socket from the moment the port is picked, so no other program can take the port",
        "in between (picking a 'free' number, closing it and passing it on would leave that gap), and",
        "it closes it as soon as everyone is connected: no port listens after the start.",
    ];
    let hosts = [
        "Timely's cluster mode needs every process's address before any connection is made: process I",
        "dials every lower-numbered process and accepts every higher one. On real machines the hosts",
        "file fixes the addresses in advance; each process listens on its own line until all have",
        "connected, then closes the port.",
    ];
    let lines: &[&str] = if started_here { &local } else { &hosts };
    for line in lines {
        say!(lesson, "  {line}");
    }
    let addresses: Vec<&str> = reports.iter().map(|r| r.address.as_str()).collect();
    lesson.figure("addresses", &addresses);
    lesson.figure("pids", reports.iter().map(|r| r.pid).collect::<Vec<_>>());
}

/// The phases of a local run, as bars.
fn show_phases(lesson: &Lesson, run: &LocalRun) {
    let phases = [
        ("start the processes", run.start.wall),
        ("scatter the blocks", run.scatter.wall),
        ("connect, count, gather", run.run.wall),
        ("wait for the exits", run.reap.wall),
    ];
    let mut bars = Bars::new().width(30);
    for (name, wall) in phases {
        bars.row(name, wall.as_secs_f64(), format::duration(wall));
    }
    say!(lesson);
    lesson.bars(&bars);
    lesson.figure(
        "phases_s",
        serde_json::json!({
            "start": run.start.wall.as_secs_f64(),
            "scatter": run.scatter.wall.as_secs_f64(),
            "run": run.run.wall.as_secs_f64(),
            "reap": run.reap.wall.as_secs_f64(),
        }),
    );
}

/// Section: which process got which blocks, and what its map step produced.
fn show_scatter_and_map(lesson: &Lesson, corpus: &Corpus, reports: &[ProcessReport], how: &str) {
    lesson.section("Scatter and map");
    say!(lesson, "  (ipyparallel's scatter and map; Hadoop's map.)");
    say!(
        lesson,
        "  The {} blocks were split into consecutive runs, one per process; {how}.",
        corpus.blocks
    );
    say!(
        lesson,
        "  Each process then mapped its own lines to words, without talking to anyone."
    );
    let mut table = Table::new(&["process", "blocks", "bytes", "lines", "words mapped", "map time"]);
    for report in reports {
        table.row([
            report.process.to_string(),
            block_range(&report.blocks),
            format::bytes(report.bytes),
            format::count(report.lines),
            format::count(report.words_mapped),
            format::seconds(report.dataflow_s),
        ]);
    }
    lesson.table(&table);
    say!(
        lesson,
        "  (map time: the whole dataflow on that process, map to gather.)"
    );
    let scatter: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "process": r.process, "blocks": [r.blocks.start, r.blocks.end], "bytes": r.bytes,
                "lines": r.lines, "words_mapped": r.words_mapped,
            })
        })
        .collect();
    lesson.figure("scatter", &scatter);
    lesson.notice(
        "The map is embarrassingly parallel: each process works on its own blocks, and it is the only step that needs no communication at all.",
    );
}

/// Section: the shuffle, records by sender and receiver.
fn show_shuffle(lesson: &Lesson, reports: &[ProcessReport], shuffle: Shuffle) -> anyhow::Result<()> {
    lesson.section("The shuffle: words exchanged by key");
    say!(
        lesson,
        "  (Hadoop's shuffle, between map and reduce; in Spark and timely, an exchange edge of the graph.)"
    );
    say!(
        lesson,
        "  Each word has one owner, process hash(word) mod {} (FNV-1a), and every record of it goes",
        reports.len()
    );
    say!(
        lesson,
        "  there, so that one process sees all of its occurrences. Records sent ({}), by receiver:",
        shuffle.describe()
    );
    let total = show_matrix(lesson, reports)?;
    let crossing: u64 = reports
        .iter()
        .map(|r| {
            r.sent
                .iter()
                .enumerate()
                .filter(|(to, _)| *to != r.process)
                .map(|(_, n)| n)
                .sum::<u64>()
        })
        .sum();
    say!(
        lesson,
        "  {} of the {} records crossed between processes over TCP; the rest stayed where they were.",
        format::count(crossing),
        format::count(total)
    );
    lesson.figure("records_shuffled", total);
    lesson.figure("records_between_processes", crossing);
    lesson.figure("sent", reports.iter().map(|r| r.sent.clone()).collect::<Vec<_>>());
    lesson.figure(
        "received",
        reports.iter().map(|r| r.received.clone()).collect::<Vec<_>>(),
    );
    lesson.notice(
        "With N processes, about (N − 1)/N of all records change process: the shuffle is all-to-all, and it grows with the data, not with the answer.",
    );
    Ok(())
}

/// Prints the matrix of records sent from each process to each, checks that every record sent
/// was received, and returns the total.
fn show_matrix(lesson: &Lesson, reports: &[ProcessReport]) -> anyhow::Result<u64> {
    let processes = reports.len();
    let mut headers = vec!["from \\ to".to_string()];
    headers.extend((0..processes).map(|p| format!("process {p}")));
    headers.push("sent".to_string());
    let mut table = Table::new(&headers);
    for report in reports {
        let mut row = vec![format!("process {}", report.process)];
        row.extend(report.sent.iter().map(|n| format::count(*n)));
        row.push(format::count(report.sent.iter().sum()));
        table.row(row);
    }
    let mut received_row = vec!["received".to_string()];
    received_row.extend(reports.iter().map(|r| format::count(r.received.iter().sum())));
    table.row(received_row);
    lesson.table(&table);
    for from in reports {
        for to in reports {
            let sent = from.sent.get(to.process).copied().unwrap_or(0);
            let received = to.received.get(from.process).copied().unwrap_or(0);
            if sent != received {
                anyhow::bail!(
                    "process {} sent {sent} records to process {} but it received {received}",
                    from.process,
                    to.process
                );
            }
        }
    }
    say!(
        lesson,
        "  ✓ every record sent was received: each receiver counted, by sender, exactly what was sent to it."
    );
    Ok(reports.iter().flat_map(|r| r.sent.iter()).sum())
}

/// Section: the reduce on each owner, the gather on process 0, and the check.
fn show_reduce_and_gather(lesson: &Lesson, gathered: &Gathered, sequential: &WordCount) -> anyhow::Result<()> {
    lesson.section("Reduce, gather, and the check");
    say!(lesson, "  (Hadoop's reduce, then ipyparallel's gather.)");
    say!(
        lesson,
        "  Each process added up the counts of the words it owns, once the dataflow told it that no"
    );
    say!(
        lesson,
        "  more records could arrive, then sent one record per word to process 0 (the gather):"
    );
    let mut bars = Bars::new().width(24);
    for report in &gathered.reports {
        bars.row(
            format!("process {}", report.process),
            report.words_owned as f64,
            format!("{} distinct words", format::count(report.words_owned)),
        );
    }
    lesson.bars(&bars);
    let answer = &gathered.answer;
    say!(lesson);
    say!(lesson, "  gathered on process 0:  {answer:?}");
    say!(lesson, "  sequential count:       {sequential:?}");
    if answer != sequential {
        anyhow::bail!("the distributed count differs from the sequential one: {answer:?} vs {sequential:?}");
    }
    let taking_part = gathered
        .reports
        .iter()
        .filter(|r| r.words_mapped > 0 && r.received.iter().sum::<u64>() > 0)
        .count();
    say!(
        lesson,
        "  ✓ the same counts for all {} words, and the same letters, words and lines; {taking_part} processes took part.",
        answer.counts.len()
    );
    lesson.figure("answers_equal", true);
    lesson.figure("processes_taking_part", taking_part);
    lesson.figure("distributed_words", answer.totals.words);
    lesson.figure("distributed_distinct_words", answer.counts.len());
    lesson.figure("distributed_letters", answer.totals.letters);
    lesson.figure(
        "top_words",
        answer
            .counts
            .iter()
            .filter(|(_, count)| **count * 50 >= answer.totals.words)
            .collect::<Vec<_>>(),
    );
    lesson.notice(
        "Correct before fast: the distributed answer is compared with the sequential one, word by word; a record lost or counted twice in the shuffle would show here.",
    );
    Ok(())
}

/// The last section: when distribution pays, with this machine's figures.
fn when_distribution_pays(lesson: &Lesson, text: &str, processes: usize, timed: &Timed) {
    let Timed {
        sequential_s,
        distributed_s,
        distributed_speedup,
        last_run: run,
    } = timed;
    let (sequential_s, distributed_s) = (*sequential_s, *distributed_s);
    // The verdict on this run is what section 8 measured; the estimate below only extrapolates.
    let processes_won = *distributed_speedup > 1.0;
    lesson.section("When distribution pays, and when it does not");
    let bytes = text.len() as u64;
    let sequential_rate = if sequential_s > 0.0 {
        bytes as f64 / sequential_s
    } else {
        0.0
    };
    let fixed_s = (run.start.wall + run.reap.wall).as_secs_f64();
    say!(
        lesson,
        "  Here: {} counted in {} on one core, in {} by {processes} processes, {} of which only",
        format::bytes(bytes),
        format::seconds(sequential_s),
        format::seconds(distributed_s),
        format::seconds(fixed_s)
    );
    say!(lesson, "  to start and stop them.");
    // Start-up and exit cost the same for any size; scatter and counting grow with the data.
    let per_byte_distributed = (run.scatter.wall + run.run.wall).as_secs_f64() / bytes.max(1) as f64;
    let per_byte_sequential = if sequential_rate > 0.0 {
        1.0 / sequential_rate
    } else {
        0.0
    };
    let break_even = if per_byte_sequential > per_byte_distributed {
        Some(fixed_s / (per_byte_sequential - per_byte_distributed))
    } else {
        None
    };
    match break_even {
        Some(break_even) => say!(
            lesson,
            "  Rough estimate from these figures: {processes} processes would beat one core from about {} of text.",
            format::bytes(break_even as u64)
        ),
        None => say!(
            lesson,
            "  Per byte, the processes (scatter through pipes, count, serialize) are no faster here than one core: on this machine they never catch up."
        ),
    }
    let estimate_says_won = break_even.is_some_and(|break_even| bytes as f64 >= break_even);
    if estimate_says_won != processes_won {
        say!(
            lesson,
            "  Section 8 timed this run's {} whole and found {}: the estimate rests on one run's phases, and start-up varies.",
            format::bytes(bytes),
            if processes_won {
                "the processes faster"
            } else {
                "one core faster"
            }
        );
    }
    let available = memory_available();
    if let Some(available) = available {
        say!(
            lesson,
            "  This machine has {} of memory available: a corpus up to about that size fits, and one core",
            format::bytes(available)
        );
        say!(
            lesson,
            "  counts it in about {} at the rate above.",
            format::seconds(available as f64 / sequential_rate.max(1.0))
        );
    }
    say!(lesson);
    // "This run" goes on the row that section 8's measurement puts it in.
    let this_run = format!(" (this run: {})", format::bytes(bytes));
    let (mut small_data, fits_memory) = if processes_won {
        (String::new(), this_run)
    } else {
        (this_run, String::new())
    };
    if let Some(break_even) = break_even
        && estimate_says_won == processes_won
    {
        small_data = format!(" (here: under about {}){small_data}", format::bytes(break_even as u64));
    }
    let mut table = Table::new(&["situation", "what to use"]).left(1);
    table.row([
        format!("small data{small_data}"),
        "one process; start-up and copying cost more than the work".to_string(),
    ]);
    table.row([
        format!("fits one machine's memory{fits_memory}"),
        if processes_won {
            format!(
                "threads on all its cores (lessons 02–06): the {processes} processes won here, threads would win by more"
            )
        } else {
            "threads on all its cores (lessons 02–06): no copies, no network".to_string()
        },
    ]);
    table.row([
        "more than one machine's memory or disk",
        "many machines, each holding and mapping its own blocks; only results travel",
    ]);
    table.row([
        "more work than one machine's cores",
        "many machines, when the work per byte outweighs the shipping",
    ]);
    lesson.table(&table);
    lesson.figure("sequential_bytes_per_s", sequential_rate);
    lesson.figure("fixed_cost_s", fixed_s);
    lesson.figure("break_even_bytes", break_even);
    lesson.figure("processes_won", processes_won);
    lesson.figure("memory_available_bytes", available);
    lesson.notice(
        "Distribution is what you do when one machine is not enough (the lecture's 'more data than fits in a single computer'); below that, it only adds start-up, copies and a network to the same work.",
    );
}

fn first_outcome(outcomes: &[JobOutcome]) -> anyhow::Result<&JobOutcome> {
    outcomes
        .first()
        .ok_or_else(|| anyhow::anyhow!("the run returned no outcome"))
}

fn gathered_by_zero(outcome: &JobOutcome) -> anyhow::Result<&Gathered> {
    outcome
        .gathered
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("process 0 gathered nothing"))
}

/// A large ratio as a whole number with separators (`30,004`), a small one with three
/// significant digits (`5.04`).
fn ratio_for_humans(ratio: f64) -> String {
    if ratio >= 1000.0 {
        format::count(ratio.round() as u64)
    } else {
        format::significant(ratio)
    }
}

/// `3..6` as `3–5`, `4..5` as `4`, an empty range as `none`.
fn block_range(blocks: &std::ops::Range<usize>) -> String {
    match blocks.len() {
        0 => "none".to_string(),
        1 => blocks.start.to_string(),
        _ => format!("{}–{}", blocks.start, blocks.end - 1),
    }
}

/// Memory the kernel says is available for new work (Linux), in bytes.
fn memory_available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|line| line.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `--hosts`: read and check the file (exit 2 with one line if it is missing or corrupt).
fn read_hosts_file(path: &str) -> Result<HostsFile, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read it: {error}"))?;
    let hosts = cluster::parse_hosts(&text)?;
    Ok(HostsFile {
        addresses: hosts.iter().map(|host| host.address.clone()).collect(),
        lines: hosts.iter().map(|host| host.line).collect(),
    })
}

/// A worker process of a local cluster. Any failure is one line on stderr and exit status 1;
/// the parent reads it and reports it.
fn worker_main(index: usize) -> ExitCode {
    install_exit_on_panic();
    match cluster::serve_as_worker(index) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lesson11_distributed worker {index}: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Makes a panic on any thread end the process at once with one line on stderr. Timely's
/// network threads panic when a peer process disappears ("timely communication error"); the
/// panic then reaches every other process as a closed connection, so a dead peer ends the
/// whole cluster instead of leaving it waiting.
fn install_exit_on_panic() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown failure".to_string());
        eprintln!("lesson11_distributed: error: a process of the cluster failed: {message}");
        course::children::exit_now(1);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ranges_read_well() {
        assert_eq!(block_range(&(3..6)), "3–5");
        assert_eq!(block_range(&(4..5)), "4");
        assert_eq!(block_range(&(2..2)), "none");
    }

    #[test]
    fn ratios_read_well() {
        assert_eq!(ratio_for_humans(30_004.2), "30,004");
        assert_eq!(ratio_for_humans(5.04), "5.04");
        assert_eq!(ratio_for_humans(123.4), "123");
    }
}
