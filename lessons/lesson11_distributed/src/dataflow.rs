//! The dataflow every process runs, the same graph in each (timely dataflow's model: every
//! worker builds the whole graph and holds a slice of the data):
//!
//! ```text
//!  lines ─▶ map: words ─(exchange by word: the shuffle)─▶ reduce: count ─(exchange to 0)─▶ gather
//!    └───▶ map: letters, words ──────────────────────────────────────(exchange to 0)─▶ sum
//! ```
//!
//! An *exchange* edge is where records cross between processes: each record goes to the
//! worker its key names, over TCP when that worker lives in another process. Every other edge
//! stays inside the process (a *pipeline*). A second, tiny dataflow then gathers what each
//! process counted about itself (records sent and received), so that process 0 can tell the
//! whole story.

use crate::corpus::{Totals, WordCount, bump, for_each_word, lines};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::ProbeHandle;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::operators::generic::{Operator, OutputBuilder};
use timely::dataflow::operators::{Exchange as _, Inspect, Probe, ToStream};
use timely::worker::Worker;

/// What the map step hands to the shuffle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Shuffle {
    /// Every occurrence of every word is a record `(word, 1)`: Hadoop's plain map/reduce.
    EveryWord,
    /// Each process first counts its own words (a *combiner*), then ships one record per
    /// distinct word: far fewer records cross the network.
    Combined,
}

impl Shuffle {
    pub fn describe(self) -> &'static str {
        match self {
            Shuffle::EveryWord => "shuffle every word",
            Shuffle::Combined => "combine, then shuffle",
        }
    }
}

/// One record of the shuffle: a word, how many times it was seen, and the process that sent
/// it (so that the receiver can count what it got from whom).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct WordRecord {
    word: String,
    count: u64,
    from: usize,
}

/// The worker that owns `word`: where the shuffle sends every record of that word, so that one
/// worker sees all of them. A fixed hash (FNV-1a), so that every machine agrees.
pub fn owner_of(word: &str, workers: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in word.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % workers.max(1) as u64) as usize
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
    /// Words the map step produced from this process's lines.
    pub words_mapped: u64,
    /// Records this process sent into the shuffle, by receiving process (itself included).
    pub sent: Vec<u64>,
    /// Records this process received from the shuffle, by sending process.
    pub received: Vec<u64>,
    /// Distinct words this process owned and counted (the records it sends to the gather).
    pub words_owned: u64,
    /// Seconds from the job's start to the end of its dataflow, on this process.
    pub dataflow_s: f64,
    /// CPU seconds this process used during the job.
    pub cpu_s: f64,
}

/// What process 0 holds at the end of a job: the gathered answer and every process's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gathered {
    pub answer: WordCount,
    pub reports: Vec<ProcessReport>,
}

/// One job's outcome on one process: its own report, and on process 0 what it gathered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobOutcome {
    pub shuffle: Shuffle,
    pub report: ProcessReport,
    pub gathered: Option<Gathered>,
}

/// Runs each job in `jobs`, one after the other, on this worker (one per process). Every
/// process must be given the same jobs in the same order: they build the same dataflows.
pub fn run_jobs(worker: &mut Worker, shard: &Shard, address: &str, jobs: &[Shuffle]) -> Vec<JobOutcome> {
    jobs.iter()
        .map(|&shuffle| {
            let (report, answer) = word_count(worker, shard, address, shuffle);
            let reports = gather_reports(worker, report.clone());
            JobOutcome {
                shuffle,
                report,
                gathered: (worker.index() == 0).then_some(Gathered { answer, reports }),
            }
        })
        .collect()
}

/// The word count and the numeric reduction, as one dataflow. Returns this process's report
/// and, on process 0, the gathered answer (empty elsewhere).
fn word_count(worker: &mut Worker, shard: &Shard, address: &str, shuffle: Shuffle) -> (ProcessReport, WordCount) {
    let me = worker.index();
    let workers = worker.peers();
    let shard_lines: Vec<String> = lines(&shard.text).map(str::to_string).collect();
    let line_count = shard_lines.len() as u64;

    // Bookkeeping the operators fill in. One worker thread per process: Rc and RefCell suffice.
    let sent = Rc::new(RefCell::new(vec![0u64; workers]));
    let received = Rc::new(RefCell::new(vec![0u64; workers]));
    let words_mapped = Rc::new(RefCell::new(0u64));
    let words_owned = Rc::new(RefCell::new(0u64));
    let gathered = Rc::new(RefCell::new(WordCount::default()));

    let ((), measurement) = course::timing::measure(|| {
        let probe = ProbeHandle::new();
        worker.dataflow::<u64, _, _>(|scope| {
            let lines = shard_lines.to_stream(scope).container::<Vec<String>>();

            // Map: lines to word records, tagged with this process, and this process's totals
            // of letters, words and lines (the numeric reduction's map side), in one pass over
            // the text. With a combiner, the word records wait until this process has seen all
            // its lines, and leave as one record per distinct word.
            let mut builder = OperatorBuilder::new("Map".to_string(), scope);
            let mut input = builder.new_input(lines, Pipeline);
            let (words_output, words) = builder.new_output::<Vec<WordRecord>>();
            let (totals_output, totals) = builder.new_output::<Vec<Totals>>();
            let mut words_output: OutputBuilder<_, CapacityContainerBuilder<Vec<WordRecord>>> =
                OutputBuilder::from(words_output);
            let mut totals_output: OutputBuilder<_, CapacityContainerBuilder<Vec<Totals>>> =
                OutputBuilder::from(totals_output);
            let (sent_by_map, mapped) = (Rc::clone(&sent), Rc::clone(&words_mapped));
            builder.build(move |capabilities| {
                // One capability per output: the promise that more may come out of it.
                let mut capabilities = Some(capabilities);
                let mut combined: HashMap<String, u64> = HashMap::new();
                let mut totals = Totals::default();
                move |frontiers| {
                    let mut words_handle = words_output.activate();
                    let mut totals_handle = totals_output.activate();
                    input.for_each(|_time, batch| {
                        let Some(capabilities) = capabilities.as_ref() else {
                            return;
                        };
                        let mut session = words_handle.session(&capabilities[0]);
                        for line in batch.drain(..) {
                            totals.lines += 1;
                            for_each_word(&line, |word| {
                                totals.words += 1;
                                totals.letters += word.len() as u64;
                                match shuffle {
                                    Shuffle::EveryWord => {
                                        sent_by_map.borrow_mut()[owner_of(word, workers)] += 1;
                                        session.give(WordRecord {
                                            word: word.to_string(),
                                            count: 1,
                                            from: me,
                                        });
                                    }
                                    Shuffle::Combined => bump(&mut combined, word, 1),
                                }
                            });
                        }
                    });
                    // All of this process's lines are in: release what the combiner holds and
                    // the totals, and drop the capabilities (no more output will come).
                    if frontiers[0].is_empty()
                        && let Some(capabilities) = capabilities.take()
                    {
                        let mut session = words_handle.session(&capabilities[0]);
                        for (word, count) in combined.drain() {
                            sent_by_map.borrow_mut()[owner_of(&word, workers)] += 1;
                            session.give(WordRecord { word, count, from: me });
                        }
                        *mapped.borrow_mut() = totals.words;
                        totals_handle.session(&capabilities[1]).give(totals);
                    }
                }
            });

            // Shuffle and reduce: the exchange pact routes each record to the worker that
            // owns its word (possibly in another process, over TCP); that worker adds up
            // every count for the word. It can only be sure a count is final when the
            // frontier says that no worker will send anything more.
            let (received_by_reduce, owned) = (Rc::clone(&received), Rc::clone(&words_owned));
            let counted = words.unary_frontier::<CapacityContainerBuilder<Vec<(String, u64)>>, _, _, _>(
                Exchange::new(move |record: &WordRecord| owner_of(&record.word, workers) as u64),
                "Reduce",
                move |capability, _info| {
                    let mut capability = Some(capability);
                    let mut counts: HashMap<String, u64> = HashMap::new();
                    move |(input, frontier), output| {
                        input.for_each(|_time, batch| {
                            for record in batch.drain(..) {
                                received_by_reduce.borrow_mut()[record.from] += 1;
                                bump(&mut counts, &record.word, record.count);
                            }
                        });
                        if frontier.is_empty()
                            && let Some(capability) = capability.take()
                        {
                            *owned.borrow_mut() = counts.len() as u64;
                            output.session(&capability).give_iterator(counts.drain());
                        }
                    }
                },
            );

            // Gather: every final count goes to worker 0.
            let gathered_counts = Rc::clone(&gathered);
            counted
                .exchange(|_| 0)
                .inspect(move |(word, count)| {
                    gathered_counts.borrow_mut().counts.insert(word.clone(), *count);
                })
                .probe_with(&probe);

            // The numeric reduction: one record of totals per process goes to worker 0.
            let gathered_totals = Rc::clone(&gathered);
            totals
                .exchange(|_| 0)
                .inspect(move |totals| gathered_totals.borrow_mut().totals.add(*totals))
                .probe_with(&probe);
        });
        // Run this worker's share of the dataflow until every worker has finished all of it.
        worker.step_or_park_while(None, || !probe.done());
    });

    let report = ProcessReport {
        process: me,
        pid: std::process::id(),
        address: address.to_string(),
        blocks: shard.blocks.clone(),
        bytes: shard.text.len() as u64,
        lines: line_count,
        words_mapped: *words_mapped.borrow(),
        sent: sent.borrow().clone(),
        received: received.borrow().clone(),
        words_owned: *words_owned.borrow(),
        dataflow_s: measurement.wall.as_secs_f64(),
        cpu_s: measurement.cpu().as_secs_f64(),
    };
    let answer = gathered.borrow().clone();
    (report, answer)
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
    use crate::corpus::{Corpus, count_sequential};

    #[test]
    fn owners_are_spread_and_stable() {
        assert_eq!(owner_of("river", 1), 0);
        let owners: Vec<usize> = ["the", "and", "of", "river", "raft", "night"]
            .iter()
            .map(|w| owner_of(w, 2))
            .collect();
        assert!(owners.contains(&0) && owners.contains(&1), "{owners:?}");
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c: pinned, so that every machine agrees.
        assert_eq!(owner_of("a", 1 << 20), (0xaf63_dc4c_8601_ec8c_u64 % (1 << 20)) as usize);
    }

    #[test]
    fn one_worker_in_one_thread_counts_like_the_sequential_code() {
        let corpus = Corpus {
            seed: 11,
            blocks: 3,
            block_bytes: 20_000,
        };
        let text = corpus.whole().0;
        let expected = count_sequential(&text);
        for shuffle in [Shuffle::EveryWord, Shuffle::Combined] {
            let shard = Shard {
                blocks: 0..3,
                text: text.clone(),
            };
            let outcomes = timely::execute_directly(move |worker| run_jobs(worker, &shard, "here", &[shuffle]));
            let outcome = &outcomes[0];
            let gathered = outcome.gathered.as_ref().expect("worker 0 gathers");
            assert_eq!(gathered.answer, expected, "{shuffle:?}");
            assert_eq!(gathered.reports.len(), 1);
            let report = &outcome.report;
            assert_eq!(report.words_mapped, expected.totals.words);
            assert_eq!(report.sent, report.received);
            let records = match shuffle {
                Shuffle::EveryWord => expected.totals.words,
                Shuffle::Combined => expected.counts.len() as u64,
            };
            assert_eq!(report.sent, vec![records]);
            assert_eq!(report.words_owned, expected.counts.len() as u64);
        }
    }

    #[test]
    fn several_workers_in_one_process_agree_with_the_sequential_code() {
        // The same dataflow on three worker threads: the exchanges really route records.
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
            run_jobs(worker, &shard, "thread", &[Shuffle::EveryWord, Shuffle::Combined])
        })
        .expect("timely starts");
        let results: Vec<Vec<JobOutcome>> = guards.join().into_iter().map(|r| r.expect("worker ran")).collect();
        for (job, outcome) in results[0].iter().enumerate() {
            let gathered = outcome.gathered.as_ref().expect("worker 0 gathers");
            assert_eq!(gathered.answer, expected);
            let reports = &gathered.reports;
            assert_eq!(reports.len(), 3);
            // Every record sent from i to j was received by j from i.
            for i in 0..3 {
                for j in 0..3 {
                    assert_eq!(reports[i].sent[j], reports[j].received[i], "{i} → {j}");
                }
            }
            let owned: u64 = reports.iter().map(|r| r.words_owned).sum();
            assert_eq!(owned, expected.counts.len() as u64);
            assert!(results[1][job].gathered.is_none());
        }
    }
}
