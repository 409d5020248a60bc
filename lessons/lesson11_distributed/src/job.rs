//! One job on one process of the cluster, as the lesson watches it: the concept's dataflow
//! ([`count_as_dataflow`]) timed; the records it moved through the shuffle and the gather,
//! counted from timely's own log of every message it sends and receives; and every process's
//! report gathered on process 0 by a second, tiny dataflow.

use crate::map_reduce::{Shuffle, WordCount, count_as_dataflow, lines};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::rc::Rc;
use timely::dataflow::ProbeHandle;
use timely::dataflow::operators::{Exchange, Inspect, Probe, ToStream};
use timely::logging::{TimelyEvent, TimelyEventBuilder};
use timely::worker::Worker;

/// How a job is named on screen.
pub fn describe(shuffle: Shuffle) -> &'static str {
    match shuffle {
        Shuffle::EveryWord => "shuffle every word",
        Shuffle::Combined => "combine, then shuffle",
    }
}

/// `Shuffle` as it travels between processes (the concept file knows nothing of serde).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Shuffle")]
enum ShuffleOnTheWire {
    EveryWord,
    Combined,
}

/// One job of a run, as the parent sends it to a worker.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Job(#[serde(with = "ShuffleOnTheWire")] pub Shuffle);

/// `WordCount` as it travels from process 0 to the parent.
#[derive(Serialize, Deserialize)]
#[serde(remote = "WordCount")]
struct WordCountOnTheWire {
    counts: BTreeMap<String, u64>,
    lines: u64,
}

/// The data one process holds: its blocks of the corpus.
#[derive(Clone, Debug)]
pub struct Shard {
    pub blocks: Range<usize>,
    pub text: String,
}

/// What one process did in one job, as it counted it itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessReport {
    pub process: usize,
    pub pid: u32,
    pub address: String,
    pub blocks: Range<usize>,
    pub bytes: u64,
    pub lines: u64,
    /// Words the map step produced from this process's lines, one record each; `None` with a
    /// combiner, which counts them without making those records.
    pub words_mapped: Option<u64>,
    /// Records this process sent into the shuffle, by receiving process (itself included).
    pub sent: Vec<u64>,
    /// Records this process received from the shuffle, by sending process.
    pub received: Vec<u64>,
    /// Distinct words this process owned and counted (the records it sent to the gather).
    pub words_owned: u64,
    /// Seconds from the job's start to the end of its dataflow, on this process.
    pub dataflow_s: f64,
    /// CPU seconds this process used during the job.
    pub cpu_s: f64,
}

/// What process 0 holds at the end of a job: the gathered answer and every process's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gathered {
    #[serde(with = "WordCountOnTheWire")]
    pub answer: WordCount,
    pub reports: Vec<ProcessReport>,
}

/// One job's outcome on one process: its own report, and on process 0 what it gathered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobOutcome {
    #[serde(with = "ShuffleOnTheWire")]
    pub shuffle: Shuffle,
    pub report: ProcessReport,
    pub gathered: Option<Gathered>,
}

/// Runs each job in `jobs`, one after the other, on this worker (one per process). Every
/// process must be given the same jobs in the same order: they build the same dataflows.
pub fn run_jobs(worker: &mut Worker, shard: &Shard, address: &str, jobs: &[Job]) -> Vec<JobOutcome> {
    jobs.iter()
        .map(|&Job(shuffle)| {
            let (report, answer) = one_job(worker, shard, address, shuffle);
            let reports = gather_reports(worker, report.clone());
            JobOutcome {
                shuffle,
                report,
                gathered: (worker.index() == 0).then_some(Gathered { answer, reports }),
            }
        })
        .collect()
}

/// The concept's dataflow on this process, timed, with its traffic read from timely's log.
fn one_job(worker: &mut Worker, shard: &Shard, address: &str, shuffle: Shuffle) -> (ProcessReport, WordCount) {
    let traffic = Rc::new(RefCell::new(Traffic::default()));
    let log = Rc::clone(&traffic);
    if let Some(mut register) = worker.log_register() {
        register.insert::<TimelyEventBuilder, _>("timely", move |_time, events| {
            for (_, event) in events.iter().flatten() {
                log.borrow_mut().note(event);
            }
        });
    }
    let (answer, measurement) = course::timing::measure(|| count_as_dataflow(worker, &shard.text, shuffle));
    if let Some(mut register) = worker.log_register() {
        register.flush();
        register.remove("timely");
    }
    let traffic = traffic.take();
    let me = worker.index();
    let peers = worker.peers();
    let (sent, received) = traffic.shuffle(peers);
    let report = ProcessReport {
        process: me,
        pid: std::process::id(),
        address: address.to_string(),
        blocks: shard.blocks.clone(),
        bytes: shard.text.len() as u64,
        lines: lines(&shard.text).count() as u64,
        words_mapped: (shuffle == Shuffle::EveryWord).then(|| sent.iter().sum()),
        sent,
        received,
        words_owned: traffic.gathered(),
        dataflow_s: measurement.wall.as_secs_f64(),
        cpu_s: measurement.cpu().as_secs_f64(),
    };
    (report, answer)
}

/// What timely logged about one dataflow: its operators, its channels, and how many records
/// each message on each channel carried, from which worker to which.
#[derive(Default)]
struct Traffic {
    /// Operator address (dataflow, operator) → its name ("Aggregate" is the reduce).
    operators: HashMap<Vec<usize>, String>,
    /// Channel → the addresses of the operators at its two ends.
    channels: HashMap<usize, (Vec<usize>, Vec<usize>)>,
    /// (channel, receiving worker) → records this worker sent.
    sent: HashMap<(usize, usize), u64>,
    /// (channel, sending worker) → records this worker received.
    received: HashMap<(usize, usize), u64>,
}

impl Traffic {
    fn note(&mut self, event: &TimelyEvent) {
        match event {
            TimelyEvent::Operates(operator) => {
                self.operators.insert(operator.addr.clone(), operator.name.clone());
            }
            TimelyEvent::Channels(channel) => {
                let end = |node: usize| [channel.scope_addr.as_slice(), &[node]].concat();
                self.channels
                    .insert(channel.id, (end(channel.source.0), end(channel.target.0)));
            }
            TimelyEvent::Messages(message) => {
                let records = message.record_count.max(0) as u64;
                if message.is_send {
                    *self.sent.entry((message.channel, message.target)).or_default() += records;
                } else {
                    *self.received.entry((message.channel, message.source)).or_default() += records;
                }
            }
            _ => {}
        }
    }

    /// The channels whose source (or target) operator is the reduce.
    fn channels_at_the_reduce(&self, into_it: bool) -> Vec<usize> {
        let is_reduce = |address: &Vec<usize>| self.operators.get(address).is_some_and(|name| name == "Aggregate");
        self.channels
            .iter()
            .filter(|(_, (source, target))| is_reduce(if into_it { target } else { source }))
            .map(|(channel, _)| *channel)
            .collect()
    }

    /// Records sent into the shuffle (the channel into the reduce) by receiver, and received
    /// from it by sender.
    fn shuffle(&self, peers: usize) -> (Vec<u64>, Vec<u64>) {
        let (mut sent, mut received) = (vec![0; peers], vec![0; peers]);
        for channel in self.channels_at_the_reduce(true) {
            for worker in 0..peers {
                sent[worker] += self.sent.get(&(channel, worker)).copied().unwrap_or(0);
                received[worker] += self.received.get(&(channel, worker)).copied().unwrap_or(0);
            }
        }
        (sent, received)
    }

    /// Records this worker sent out of the reduce to the gather: one per word it owned.
    fn gathered(&self) -> u64 {
        let channels = self.channels_at_the_reduce(false);
        self.sent
            .iter()
            .filter(|((channel, _), _)| channels.contains(channel))
            .map(|(_, records)| records)
            .sum()
    }
}

/// A second dataflow: every process's report goes to worker 0 (a gather of the bookkeeping).
/// Returns all reports, in process order, on worker 0; an empty list elsewhere.
fn gather_reports(worker: &mut Worker, report: ProcessReport) -> Vec<ProcessReport> {
    let reports = Rc::new(RefCell::new(Vec::new()));
    let probe = ProbeHandle::new();
    let collected = Rc::clone(&reports);
    worker.dataflow::<u64, _, _>(|scope| {
        vec![report]
            .to_stream(scope)
            .container::<Vec<ProcessReport>>()
            .exchange(|_| 0)
            .inspect(move |report| collected.borrow_mut().push(report.clone()))
            .probe_with(&probe);
    });
    worker.step_or_park_while(None, || !probe.done());
    let mut reports = reports.take();
    reports.sort_by_key(|report| report.process);
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;
    use crate::map_reduce::count_sequential;

    #[test]
    fn one_worker_reports_every_record_it_shuffled() {
        let corpus = Corpus {
            seed: 11,
            blocks: 3,
            block_bytes: 20_000,
        };
        let text = corpus.whole().0;
        let expected = count_sequential(&text);
        let shard = Shard { blocks: 0..3, text };
        let jobs = [Job(Shuffle::EveryWord), Job(Shuffle::Combined)];
        let outcomes = timely::execute_directly(move |worker| run_jobs(worker, &shard, "here", &jobs));
        let [every_word, combined] = &outcomes[..] else {
            panic!("two jobs, two outcomes")
        };
        for outcome in [every_word, combined] {
            let gathered = outcome.gathered.as_ref().expect("worker 0 gathers");
            assert_eq!(gathered.answer, expected, "{:?}", outcome.shuffle);
            assert_eq!(gathered.reports, vec![outcome.report.clone()]);
            assert_eq!(outcome.report.sent, outcome.report.received);
            assert_eq!(outcome.report.words_owned, expected.counts.len() as u64);
            assert_eq!(outcome.report.lines, expected.lines);
        }
        assert_eq!(every_word.report.sent, vec![expected.words()]);
        assert_eq!(every_word.report.words_mapped, Some(expected.words()));
        assert_eq!(combined.report.sent, vec![expected.counts.len() as u64]);
        assert_eq!(combined.report.words_mapped, None);
    }

    #[test]
    fn three_workers_count_what_crosses_between_them() {
        let corpus = Corpus {
            seed: 5,
            blocks: 6,
            block_bytes: 10_000,
        };
        let expected = count_sequential(&corpus.whole().0);
        let guards = timely::execute(timely::Config::process(3), move |worker| {
            let blocks = corpus.blocks_of(worker.index(), worker.peers());
            let shard = Shard {
                text: corpus.text_of(blocks.clone()),
                blocks,
            };
            run_jobs(
                worker,
                &shard,
                "thread",
                &[Job(Shuffle::EveryWord), Job(Shuffle::Combined)],
            )
        })
        .expect("timely starts");
        let results: Vec<Vec<JobOutcome>> = guards.join().into_iter().map(|r| r.expect("worker ran")).collect();
        for (job, outcome) in results[0].iter().enumerate() {
            let gathered = outcome.gathered.as_ref().expect("worker 0 gathers");
            assert_eq!(gathered.answer, expected);
            let reports = &gathered.reports;
            assert_eq!(reports.len(), 3);
            for i in 0..3 {
                for j in 0..3 {
                    assert_eq!(reports[i].sent[j], reports[j].received[i], "{i} → {j}");
                }
                assert!(
                    reports[i].sent.iter().filter(|&&n| n > 0).count() >= 2,
                    "{i} sends to others"
                );
            }
            let owned: u64 = reports.iter().map(|r| r.words_owned).sum();
            assert_eq!(owned, expected.counts.len() as u64);
            let shuffled: u64 = reports.iter().flat_map(|r| r.sent.iter()).sum();
            match outcome.shuffle {
                Shuffle::EveryWord => assert_eq!(shuffled, expected.words()),
                Shuffle::Combined => assert!(shuffled <= 3 * expected.counts.len() as u64),
            }
            assert!(results[1][job].gathered.is_none());
        }
    }
}
