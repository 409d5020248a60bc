//! The quiz (`--quiz --seed S`), what is particular to this lesson. The contract every quiz
//! keeps (the seeds fixed word for word in `tests/quiz_expected/`, answers hidden until
//! `--answers`, `--answers` alone refused) is checked for every lesson by the course's
//! end-to-end suite (`tests/quiz.rs` at the root); here: answers worked out by hand, and the
//! traps the quiz must set.

use testkit::Run;

const LESSON: &str = env!("CARGO_BIN_EXE_lesson10_amdahl");

fn quiz(args: &[&str]) -> String {
    let outcome = Run::new(LESSON).args(args).go();
    outcome.assert_code(0);
    outcome.assert_clean();
    outcome.stdout
}

fn answers_as_json(seed: u64) -> serde_json::Value {
    let text = quiz(&["--quiz", "--seed", &seed.to_string(), "--json", "--answers"]);
    serde_json::from_str(&text).expect("one JSON document")
}

/// The answer to ask `ask` (from 0) of question `question` (from 0).
fn answer(document: &serde_json::Value, question: usize, ask: usize) -> String {
    document["quiz"]["questions"][question]["asks"][ask]["answer"]
        .as_str()
        .unwrap_or_else(|| panic!("no answer {question}/{ask} in {document:#}"))
        .to_string()
}

#[test]
fn seed_7_answers_as_worked_out_by_hand() {
    let document = answers_as_json(7);
    // Q1: P = 0.9 on 20 workers: 1 / (0.1 + 0.9/20) = 1 / 0.145 = 6.897; 6.897 / 20 = 34.5%;
    // ceiling 1 / 0.1.
    assert_eq!(answer(&document, 0, 0), "6.90×");
    assert_eq!(answer(&document, 0, 1), "34.5%");
    assert_eq!(answer(&document, 0, 2), "10.00×");
    // Q2: 2× needs 0.9 / (1/2 − 0.1) = 2.25, so 3 workers; 9× needs 0.9 / (1/9 − 0.1) = 81.
    assert_eq!(answer(&document, 1, 0), "3");
    assert_eq!(answer(&document, 1, 1), "81");
    // Q3: times 1760, 1058, 710, 542 s. e(2) = (2·1058 − 1760) / 1760 = 356/1760 = 0.2023;
    // e(4) = (4·710 − 1760) / (3·1760) = 1080/5280 = 0.2045; e(8) = (8·542 − 1760) / (7·1760)
    // = 2576/12320 = 0.2091.
    let q3: Vec<String> = (0..6).map(|ask| answer(&document, 2, ask)).collect();
    assert_eq!(q3, ["1.66×", "0.202", "2.48×", "0.205", "3.25×", "0.209"]);
    // Q4: Σx² = 0.25 + 0.5625 + 0.765625 = 1.578125; Σxy = 0.5·0.101136 + 0.75·0.153409 +
    // 0.875·0.182955 = 0.325710; e = 0.206391, P = 0.794; ceiling 1 / 0.206 = 4.854.
    assert_eq!(answer(&document, 3, 0), "0.794");
    assert_eq!(answer(&document, 3, 1), "4.85×");
    assert_eq!(answer(&document, 3, 2), "it grows");
    // Q5: 1024 workers, 60 s, 1% serial: 0.6 + 1024 · 59.4 = 60826.2 s; 0.01 + 0.99 · 1024 =
    // 1013.76 + 0.01; Amdahl 1 / (0.01 + 0.99/1024) = 91.18.
    assert_eq!(answer(&document, 4, 0), "60826.2");
    assert_eq!(answer(&document, 4, 1), "1013.77×");
    assert_eq!(answer(&document, 4, 2), "91.18×");
}

#[test]
fn seed_2016_answers_as_worked_out_by_hand() {
    let document = answers_as_json(2016);
    // Q1: P = 0.99 on 2 workers: 1 / 0.505 = 1.980; 99.0%; ceiling 100.
    assert_eq!(answer(&document, 0, 0), "1.98×");
    assert_eq!(answer(&document, 0, 1), "99.0%");
    assert_eq!(answer(&document, 0, 2), "100.00×");
    // Q2: 93× needs 0.99 / (1/93 − 0.01) = 1315.29, so 1316; 99× needs 0.99 · 99 · 100 = 9801.
    assert_eq!(answer(&document, 1, 0), "1316");
    assert_eq!(answer(&document, 1, 1), "9801");
    // Q3 and Q4: 1760, 1100, 770, 605 s, a quarter serial and no overhead: e = 0.250 throughout.
    let q3: Vec<String> = (0..6).map(|ask| answer(&document, 2, ask)).collect();
    assert_eq!(q3, ["1.60×", "0.250", "2.29×", "0.250", "2.91×", "0.250"]);
    assert_eq!(answer(&document, 3, 0), "0.750");
    assert_eq!(answer(&document, 3, 1), "4.00×");
    assert_eq!(answer(&document, 3, 2), "level");
    // Q5: 8 workers, 30 s, 5% serial: 1.5 + 8 · 28.5 = 229.5 s; 0.05 + 7.6 = 7.65; Amdahl 5.93.
    assert_eq!(answer(&document, 4, 0), "229.5");
    assert_eq!(answer(&document, 4, 1), "7.65×");
    assert_eq!(answer(&document, 4, 2), "5.93×");
}

#[test]
fn some_seeds_ask_for_the_ceiling_itself_or_more() {
    let texts: Vec<String> = (0..40)
        .map(|seed| quiz(&["--quiz", "--seed", &seed.to_string(), "--answers"]))
        .collect();
    assert!(
        texts
            .iter()
            .any(|text| text.contains("none can  (") && text.contains("is the ceiling itself")),
        "among 40 seeds, at least one asks for exactly the ceiling"
    );
    assert!(
        texts.iter().any(|text| text.contains("is above the ceiling")),
        "among 40 seeds, at least one asks for more than the ceiling"
    );
    assert!(
        texts.iter().any(|text| text.contains(": level  (")) && texts.iter().any(|text| text.contains(": it grows  (")),
        "among 40 seeds, the serial fraction stays level in some and grows in others"
    );
}

#[test]
fn the_quiz_leaves_the_lesson_parameters_alone() {
    // `--quiz` and `--answers` are not lesson parameters: a --json report of the lesson lists
    // the same parameters as before the quiz existed.
    let outcome = Run::new(LESSON).args(["--quick", "--json", "--items", "1000"]).go();
    outcome.assert_code(0);
    let report = outcome.json();
    assert!(report["params"].get("quiz").is_none(), "{}", report["params"]);
    assert!(report["params"].get("answers").is_none(), "{}", report["params"]);
}
