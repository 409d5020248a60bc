//! Lesson 11's own checks: the distributed word count equals the sequential one with several
//! processes taking part, every record of the shuffle arrives, a cluster can be formed from a
//! hosts file, and no worker process or listening port is left behind, also after Ctrl-C.
//! Never timings.

use serde_json::Value;
use std::net::TcpListener;
use std::time::Duration;
use testkit::{Interrupt, Outcome, Run};

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson11_distributed"))
}

/// Every figure of every section, merged (the names do not repeat across sections).
fn all_figures(report: &Value) -> serde_json::Map<String, Value> {
    let mut figures = serde_json::Map::new();
    for section in report["sections"].as_array().into_iter().flatten() {
        if let Some(section_figures) = section["figures"].as_object() {
            figures.extend(section_figures.clone());
        }
    }
    figures
}

/// The ports the report says the workers listened on.
fn worker_ports(figures: &serde_json::Map<String, Value>) -> Vec<u16> {
    figures["addresses"]
        .as_array()
        .expect("the report lists the workers' addresses")
        .iter()
        .map(|address| {
            let address = address.as_str().expect("an address is text");
            address.rsplit(':').next().unwrap().parse().expect("a port")
        })
        .collect()
}

#[track_caller]
fn assert_no_port_left(ports: &[u16], outcome: &Outcome) {
    let listening = testkit::listening_ports();
    for port in ports {
        assert!(
            !listening.contains(port),
            "port {port} still listens after the run\n{}",
            outcome.describe()
        );
    }
}

/// Checks what a report of the whole story (local, or process 0 of a cluster) must show.
#[track_caller]
fn assert_distributed_answer_is_the_sequential_one(figures: &serde_json::Map<String, Value>, processes: usize) {
    assert_eq!(figures["answers_equal"], true);
    assert!(figures["processes_taking_part"].as_u64().unwrap() >= 2);
    assert_eq!(figures["processes_taking_part"], processes);
    assert_eq!(figures["distributed_words"], figures["words"]);
    assert_eq!(figures["distributed_distinct_words"], figures["distinct_words"]);
    assert_eq!(figures["distributed_letters"], figures["letters"]);
    // The shuffle of every word ships one record per word, and each arrived where it was sent.
    assert_eq!(figures["records_shuffled"], figures["words"]);
    let sent = figures["sent"].as_array().unwrap();
    let received = figures["received"].as_array().unwrap();
    assert_eq!(sent.len(), processes);
    for i in 0..processes {
        for j in 0..processes {
            assert_eq!(sent[i][j], received[j][i], "records from {i} to {j}");
        }
    }
    // Every process got a share of the blocks and mapped some words.
    for row in figures["scatter"].as_array().unwrap() {
        assert!(row["words_mapped"].as_u64().unwrap() > 0, "{row}");
    }
}

#[test]
fn the_distributed_count_equals_the_sequential_one() {
    for processes in [2, 3] {
        let outcome = lesson()
            .args(["--quick", "--json", "--processes", &processes.to_string()])
            .go();
        outcome.assert_code(0);
        outcome.assert_clean();
        let figures = all_figures(&outcome.json());
        assert_distributed_answer_is_the_sequential_one(&figures, processes);
        // The combiner ships at most one record per distinct word per pair of processes.
        let combined = figures["records_combined"].as_u64().unwrap();
        let distinct = figures["distinct_words"].as_u64().unwrap();
        assert!(combined <= distinct * processes as u64, "{combined} records");
        assert!(combined < figures["records_every_word"].as_u64().unwrap());
        // Section 9's verdict on this run is the one section 8 measured, whichever it was.
        let speedup = figures["distributed_speedup"].as_f64().unwrap();
        assert_eq!(figures["processes_won"], speedup > 1.0, "speedup {speedup}");
        assert_no_port_left(&worker_ports(&figures), &outcome);
    }
}

#[test]
fn every_seed_gives_an_answer_that_checks() {
    // Other data, other block sizes, more processes than blocks.
    let outcome = lesson()
        .args([
            "--json",
            "--seed",
            "99",
            "--blocks",
            "3",
            "--block-kib",
            "7",
            "--processes",
            "4",
        ])
        .go();
    outcome.assert_code(0);
    outcome.assert_clean();
    let figures = all_figures(&outcome.json());
    assert_eq!(figures["answers_equal"], true);
    let scatter = figures["scatter"].as_array().unwrap();
    assert_eq!(scatter.len(), 4);
    let blocks: u64 = scatter
        .iter()
        .map(|row| row["blocks"][1].as_u64().unwrap() - row["blocks"][0].as_u64().unwrap())
        .sum();
    assert_eq!(blocks, 3, "every block is given to exactly one process");
}

#[test]
fn no_worker_process_or_port_is_left_behind_after_ctrl_c() {
    // A run big enough that workers are alive at each moment of interruption.
    for (millis, how) in [
        (150, Interrupt::Group),
        (400, Interrupt::Process),
        (900, Interrupt::Group),
    ] {
        let before = testkit::listening_ports();
        let outcome = lesson()
            .args(["--blocks", "32", "--block-kib", "256"])
            .interrupt_after(Duration::from_millis(millis), how)
            .timeout(Duration::from_secs(120))
            .go();
        outcome.assert_clean();
        assert!(!outcome.timed_out, "{}", outcome.describe());
        let interrupted = outcome.signal() == Some(2) || outcome.code() == Some(130);
        assert!(outcome.code() == Some(0) || interrupted, "{}", outcome.describe());
        // Nothing new listens: the workers' ports died with them.
        let new_ports: Vec<u16> = testkit::listening_ports()
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        let ports_in_output: Vec<u16> = outcome
            .stdout
            .split_whitespace()
            .filter_map(|word| word.strip_prefix("127.0.0.1:"))
            .filter_map(|port| port.parse().ok())
            .collect();
        for port in ports_in_output {
            assert!(
                !new_ports.contains(&port),
                "port {port} still listens\n{}",
                outcome.describe()
            );
        }
    }
}

/// Two ports that were free a moment ago (a test may race another program for them; the
/// lesson itself never does, see its section 3).
fn two_free_ports() -> [u16; 2] {
    let first = TcpListener::bind("127.0.0.1:0").unwrap();
    let second = TcpListener::bind("127.0.0.1:0").unwrap();
    [first.local_addr().unwrap().port(), second.local_addr().unwrap().port()]
}

/// A hosts file in the test's own temporary folder (not the lesson's), removed on drop.
struct HostsFile(std::path::PathBuf);

impl HostsFile {
    fn new(name: &str, text: &str) -> HostsFile {
        let path = std::env::temp_dir().join(format!("lesson11-test-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        HostsFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for HostsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_cluster_can_be_started_by_hand_from_a_hosts_file() {
    let [zero, one] = two_free_ports();
    let hosts = HostsFile::new(
        "cluster",
        &format!("# a test cluster\n127.0.0.1:{zero}\n127.0.0.1:{one}\n"),
    );
    let start = |index: usize| {
        let path = hosts.path().to_string();
        std::thread::spawn(move || {
            lesson()
                .args([
                    "--quick",
                    "--json",
                    "--hosts",
                    &path,
                    "--process-index",
                    &index.to_string(),
                ])
                .timeout(Duration::from_secs(60))
                .go()
        })
    };
    // The second process starts first: the first must wait for it, not fail.
    let second = start(1);
    std::thread::sleep(Duration::from_millis(200));
    let first = start(0);
    let (first, second) = (first.join().unwrap(), second.join().unwrap());
    for outcome in [&first, &second] {
        outcome.assert_code(0);
        outcome.assert_clean();
    }
    let figures = all_figures(&first.json());
    assert_distributed_answer_is_the_sequential_one(&figures, 2);
    // The hosts file starts with a comment: process 0's address is on line 2, process 1's on 3.
    assert_eq!(figures["process_index"], 0);
    assert_eq!(figures["hosts_file_line"], 2);
    assert_eq!(all_figures(&second.json())["hosts_file_line"], 3);
    let own = &all_figures(&second.json())["report"];
    assert_eq!(own["process"], 1);
    assert!(own["words_mapped"].as_u64().unwrap() > 0);
    assert_no_port_left(&[zero, one], &first);
}

#[test]
fn a_missing_peer_is_a_timeout_with_one_line_not_a_hang() {
    let [zero, one] = two_free_ports();
    let hosts = HostsFile::new("lonely", &format!("127.0.0.1:{zero}\n127.0.0.1:{one}\n"));
    let outcome = lesson()
        .args([
            "--quick",
            "--hosts",
            hosts.path(),
            "--process-index",
            "0",
            "--connect-timeout",
            "300",
        ])
        .timeout(Duration::from_secs(30))
        .go();
    outcome.assert_code(1);
    outcome.assert_clean();
    let stderr = outcome.stderr.trim_end();
    assert_eq!(stderr.lines().count(), 1, "{}", outcome.describe());
    assert!(stderr.contains("gave up waiting for process"), "{}", outcome.describe());
}

#[test]
fn bad_hosts_files_are_refused_with_one_line() {
    let corrupt = HostsFile::new("corrupt", "this is not a host list\n");
    let single = HostsFile::new("single", "127.0.0.1:7000\n");
    let two = HostsFile::new("two", "127.0.0.1:7000\n127.0.0.1:7001\n");
    let missing = std::env::temp_dir().join("lesson11-test-no-such-file");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["--hosts", missing, "--process-index", "0"],
        vec!["--hosts", corrupt.path(), "--process-index", "0"],
        vec!["--hosts", single.path(), "--process-index", "0"],
        vec!["--hosts", two.path(), "--process-index", "2"],
        vec!["--hosts", two.path()],
        vec!["--process-index", "0"],
        vec!["--hosts", two.path(), "--process-index", "x"],
        vec!["--hosts", two.path(), "--process-index", "0", "--processes", "2"],
    ] {
        let outcome = lesson().args(["--quick"]).args(&args).go();
        outcome.assert_code(2);
        outcome.assert_clean();
        assert_eq!(outcome.stderr.trim_end().lines().count(), 1, "{}", outcome.describe());
        assert!(outcome.stdout.is_empty(), "{}", outcome.describe());
    }
}

#[test]
fn the_worker_mode_is_not_advertised() {
    let outcome = lesson().args(["--help"]).go();
    outcome.assert_code(0);
    assert!(!outcome.stdout.contains("--worker"), "{}", outcome.describe());
    assert!(outcome.stdout.contains("--hosts"));
}
