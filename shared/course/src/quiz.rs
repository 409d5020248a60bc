//! Seeded problems with a reveal: predict, then check.
//!
//! `--quiz --seed S` prints questions whose numbers come from the seed, with `?` wherever the
//! student must predict; the same command with `--answers` prints the answers, computed by the
//! same code that made the questions. Every student can get a different seed, or a class can
//! share one. Questions are generated with [`workloads::Rng`] (SplitMix64, pinned), so a seed
//! gives the same problem on every platform and every future version; each quiz lesson keeps
//! a test that fixes a few seeds' output word for word.
//!
//! A lesson adds `#[command(flatten)] quiz: course::quiz::QuizArgs` to its arguments and, in
//! `main`, hands over to [`run`] when `--quiz` is given:
//!
//! ```no_run
//! # use clap::Parser;
//! # #[derive(Parser, serde::Serialize)]
//! # struct Args { #[command(flatten)] common: course::CommonArgs, #[command(flatten)] quiz: course::quiz::QuizArgs }
//! # fn main() -> std::process::ExitCode {
//! let args: Args = course::parse_args();
//! if args.quiz.quiz {
//!     return course::quiz::run(course::info!("Races"), &args.common, &args.quiz, |rng| {
//!         let mut quiz = course::quiz::Quiz::new();
//!         let (a, b) = (rng.between(1, 9), rng.between(1, 9));
//!         quiz.question(format!("A counter starts at {a}; one thread adds {b}."))
//!             .ask("Its final value", (a + b).to_string(), "nothing else touches it");
//!         quiz
//!     });
//! }
//! # std::process::ExitCode::SUCCESS }
//! ```

use crate::{CommonArgs, Info, style};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use workloads::Rng;

/// `--quiz` and `--answers`, for lessons that have a quiz.
#[derive(clap::Args, Clone, Debug, Default, Serialize)]
pub struct QuizArgs {
    /// Print questions to predict (each ? is yours to answer) instead of running the lesson; --seed picks the problem
    #[arg(long)]
    pub quiz: bool,
    /// With --quiz: reveal the answers, computed by the same code that made the questions
    #[arg(long, requires = "quiz")]
    pub answers: bool,
}

/// A list of questions.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Quiz {
    pub questions: Vec<Question>,
}

/// One problem: its set-up (lines of text, a table, a trace) and what to predict about it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Question {
    pub setup: Vec<String>,
    pub asks: Vec<Ask>,
}

/// One prediction: what is asked, the answer, and why (shown with the answer).
#[derive(Clone, Debug, Serialize)]
pub struct Ask {
    pub prompt: String,
    pub answer: String,
    pub why: String,
}

impl Quiz {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a question with its first line of set-up.
    pub fn question(&mut self, first_line: impl Into<String>) -> &mut Question {
        self.questions.push(Question {
            setup: vec![first_line.into()],
            asks: Vec::new(),
        });
        self.questions.last_mut().expect("just pushed")
    }
}

impl Question {
    /// Adds a line of set-up (part of a table or a trace).
    pub fn line(&mut self, text: impl Into<String>) -> &mut Self {
        self.setup.push(text.into());
        self
    }

    /// Adds something to predict, with its answer and a short reason.
    pub fn ask(&mut self, prompt: impl Into<String>, answer: impl Into<String>, why: impl Into<String>) -> &mut Self {
        self.asks.push(Ask {
            prompt: prompt.into(),
            answer: answer.into(),
            why: why.into(),
        });
        self
    }
}

/// The quiz as text: the questions with `?` or, with `answers`, with each answer and its reason.
pub fn render(package: &str, seed: u64, quiz: &Quiz, answers: bool) -> Vec<String> {
    let mut lines = vec![format!("{package} · quiz · seed {seed}")];
    if answers {
        lines.push("Answers, computed by the same code that made the questions.".to_string());
    } else {
        lines.push(format!(
            "Write down a prediction for every ?, then check: cargo run -p {package} -- --quiz --seed {seed} --answers"
        ));
    }
    for (number, question) in quiz.questions.iter().enumerate() {
        lines.push(String::new());
        for (i, text) in question.setup.iter().enumerate() {
            let lead = if i == 0 {
                format!("Q{}.", number + 1)
            } else {
                String::new()
            };
            lines.push(format!("{lead:<4}{text}").trim_end().to_string());
        }
        for (i, ask) in question.asks.iter().enumerate() {
            let letter = char::from(b'a' + (i % 26) as u8);
            if answers {
                lines.push(format!("    {letter}) {}: {}  ({})", ask.prompt, ask.answer, ask.why));
            } else {
                lines.push(format!("    {letter}) {}: ?", ask.prompt));
            }
        }
    }
    lines
}

/// Prints the quiz for `--seed` (as text, or as JSON under `--json`) and returns exit status 0.
pub fn run(info: Info, common: &CommonArgs, args: &QuizArgs, make: impl FnOnce(&mut Rng) -> Quiz) -> ExitCode {
    let mut rng = Rng::new(common.seed);
    let quiz = make(&mut rng);
    let mut out = std::io::stdout().lock();
    if common.json {
        let questions: Vec<serde_json::Value> = quiz
            .questions
            .iter()
            .map(|q| {
                let asks: Vec<serde_json::Value> = q
                    .asks
                    .iter()
                    .map(|a| {
                        if args.answers {
                            serde_json::json!({ "prompt": a.prompt, "answer": a.answer, "why": a.why })
                        } else {
                            serde_json::json!({ "prompt": a.prompt })
                        }
                    })
                    .collect();
                serde_json::json!({ "setup": q.setup, "asks": asks })
            })
            .collect();
        let document = serde_json::json!({
            "lesson": info.package,
            "quiz": { "seed": common.seed, "answers": args.answers, "questions": questions },
        });
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&document).unwrap_or_default());
    } else {
        for (i, line) in render(info.package, common.seed, &quiz, args.answers)
            .into_iter()
            .enumerate()
        {
            let line = if i == 0 { style::bold(&line) } else { line };
            let _ = writeln!(out, "{line}");
        }
    }
    ExitCode::SUCCESS
}

/// For a quiz lesson's own tests: over every seed in `seeds`, `make` asks `questions`
/// questions, each with at least `min_asks` things to predict, and every one has an answer
/// (not empty, no `?`, no `NaN`) and a reason; the same seed makes the same quiz, and two
/// seeds make different ones. Panics with the seed and the ask that fail.
pub fn assert_well_formed(
    make: impl Fn(&mut Rng) -> Quiz,
    seeds: std::ops::Range<u64>,
    questions: usize,
    min_asks: usize,
) {
    for seed in seeds.clone() {
        let quiz = make(&mut Rng::new(seed));
        assert_eq!(quiz.questions.len(), questions, "seed {seed}: the number of questions");
        for question in &quiz.questions {
            assert!(
                question.asks.len() >= min_asks,
                "seed {seed}: too few asks in {question:?}"
            );
            for ask in &question.asks {
                let answered = !ask.answer.is_empty() && !ask.answer.contains('?') && !ask.answer.contains("NaN");
                assert!(answered && !ask.why.is_empty(), "seed {seed}: {ask:?}");
            }
        }
    }
    let render = |seed| render("", seed, &make(&mut Rng::new(seed)), true);
    assert_eq!(
        render(seeds.start),
        render(seeds.start),
        "the same seed must make the same quiz"
    );
    assert_ne!(
        render(seeds.start),
        render(seeds.start + 1),
        "two seeds should make different quizzes"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Quiz {
        let mut quiz = Quiz::new();
        quiz.question("Two threads each add 1 to a counter that starts at 0.")
            .line("A: load 0, B: load 0, A: store 1, B: store 1")
            .ask("The final counter", "1", "B's store overwrote A's");
        quiz
    }

    #[test]
    fn questions_hide_answers_until_asked() {
        let hidden = render("lesson03_race", 7, &sample(), false).join("\n");
        assert!(hidden.contains("a) The final counter: ?"), "{hidden}");
        assert!(!hidden.contains("overwrote"), "{hidden}");
        assert!(hidden.contains("--quiz --seed 7 --answers"));
        let shown = render("lesson03_race", 7, &sample(), true).join("\n");
        assert!(
            shown.contains("a) The final counter: 1  (B's store overwrote A's)"),
            "{shown}"
        );
        assert!(shown.contains("Q1. Two threads"), "{shown}");
        assert!(shown.contains("    A: load 0"), "{shown}");
    }
}
