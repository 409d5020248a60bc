//! Section 3 (from a hosts file): join the cluster whose addresses the file lists, run both
//! jobs with the others, and show who listened where. On every process but 0 it is the only
//! section: the whole story is gathered on process 0.

use super::{block_range, gathered_by_zero, show_processes};
use crate::job::{JobOutcome, Shard};
use crate::map_reduce::Shuffle;
use crate::{Cluster, Params, cluster, job::Job, mesh};
use anyhow::{anyhow, bail};
use course::timing::format;
use course::{Lesson, say};
use std::time::Instant;

/// The jobs every process of a hosts-file cluster runs, in this order.
pub const JOBS: [Job; 2] = [Job(Shuffle::EveryWord), Job(Shuffle::Combined)];

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let Cluster::Hosts { hosts, index } = &p.cluster else {
        bail!("this section runs only in a cluster started from a hosts file");
    };
    let (index, processes, address) = (*index, hosts.addresses.len(), hosts.addresses[*index].clone());
    let line = hosts.lines.get(index).copied().unwrap_or(index + 1);
    say!(
        lesson,
        "  This is process {index} of {processes}, listening on {address}: address {index} of the \
         hosts file counting from 0, on line {line} of the file (comments and blank lines are not \
         processes)."
    );
    lesson.figure("process_index", index);
    lesson.figure("hosts_file_line", line);
    if p.hosts_outcomes.is_none() {
        say!(
            lesson,
            "  Waiting up to {} for the others to connect …",
            format::duration(p.connect_timeout)
        );
    }
    let outcomes = p.hosts_outcomes()?;
    let own = outcomes.first().ok_or_else(|| anyhow!("the run returned no outcome"))?;
    say!(
        lesson,
        "  Connected; this process mapped {} words from blocks {}, sent {} records and received {}.",
        format::count(own.report.words_mapped.unwrap_or(0)),
        block_range(&own.report.blocks),
        format::count(own.report.sent.iter().sum()),
        format::count(own.report.received.iter().sum())
    );
    lesson.figure("report", &own.report);
    if index != 0 {
        lesson.notice("The answer and the whole story are gathered on process 0: see its output.");
        return Ok(());
    }
    say!(lesson);
    show_processes(lesson, &gathered_by_zero(own)?.reports);
    say!(
        lesson,
        "  Timely's cluster mode needs every process's address before any connection is made: \
         process I dials every lower-numbered process and accepts every higher one. On real \
         machines the hosts file fixes the addresses in advance; each process listens on its own \
         line until all have connected, then closes the port."
    );
    lesson.notice("All processes connected to each other: one TCP connection per pair, made before any data moved.");
    Ok(())
}

/// Listens on this process's line of the hosts file, generates its own blocks, connects to the
/// others and runs both jobs with them.
pub fn join(p: &Params) -> anyhow::Result<Vec<JobOutcome>> {
    let Cluster::Hosts { hosts, index } = &p.cluster else {
        bail!("only a process of a hosts-file cluster joins one");
    };
    let (index, addresses) = (*index, hosts.addresses.as_slice());
    let listener = std::net::TcpListener::bind(addresses[index].as_str())
        .map_err(|error| anyhow!("cannot listen on {}: {error}", addresses[index]))?;
    // No parent to scatter the data: each machine reads (here: generates) its own blocks, as
    // Hadoop runs each map task where its block is stored.
    let blocks = p.corpus.blocks_of(index, addresses.len());
    let shard = Shard {
        text: p.corpus.text_of(blocks.clone()),
        blocks,
    };
    let deadline = Instant::now() + p.connect_timeout;
    let fingerprint = mesh::fingerprint(addresses.len(), &p.corpus, &JOBS);
    cluster::run_session(index, listener, addresses, shard, &JOBS, fingerprint, deadline)
}
