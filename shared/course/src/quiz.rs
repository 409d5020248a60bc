//! Seeded problems with a reveal: predict, then check.
//!
//! `--quiz --seed S` prints questions whose numbers come from the seed, with `?` wherever the
//! student must predict; the same command with `--answers` prints the answers, computed by the
//! same code that made the questions; with `--check` it asks each question in turn, reads the
//! student's answer from standard input, says at once whether it is right (with the reason),
//! and scores the set. Every student can get a different seed, or a class can
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
use std::io::{BufRead, IsTerminal, Write};
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
    /// With --quiz: ask each question, read your answer from standard input (one line each),
    /// say right or wrong with the reason, and score the set
    #[arg(long, requires = "quiz", conflicts_with = "answers")]
    pub check: bool,
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
/// With `--check`, asks it instead (see [`check`]).
pub fn run(info: Info, common: &CommonArgs, args: &QuizArgs, make: impl FnOnce(&mut Rng) -> Quiz) -> ExitCode {
    let mut rng = Rng::new(common.seed);
    let quiz = make(&mut rng);
    if args.check {
        let stdin = std::io::stdin();
        let echo = !stdin.is_terminal();
        let mut out = std::io::stdout().lock();
        let checked = check(&quiz, &mut stdin.lock(), &mut out, common.json, echo, |text| text);
        let header = format!("{} · quiz · seed {} · your answers", info.package, common.seed);
        if common.json {
            let document = serde_json::json!({
                "lesson": info.package,
                "quiz": { "seed": common.seed, "check": true, "right": checked.right, "asked": checked.asked, "asks": checked.asks },
            });
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&document).unwrap_or_default());
        } else {
            let _ = writeln!(
                out,
                "\n{}",
                style::bold(&format!("{header}: {} of {} right", checked.right, checked.asked))
            );
        }
        return ExitCode::SUCCESS;
    }
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

/// One answer checked: what was asked, what the student gave, the answer and why.
#[derive(Clone, Debug, Serialize)]
pub struct Checked {
    pub prompt: String,
    pub given: String,
    pub answer: String,
    pub why: String,
    pub right: bool,
}

/// The answers to a whole quiz.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Score {
    pub right: usize,
    pub asked: usize,
    pub asks: Vec<Checked>,
}

/// Asks every question of `quiz`: prints its set-up and each prompt (unless `quiet`, for
/// `--json`), reads one line per ask from `input` (an empty line or the end of the input counts
/// as no answer), and says at once whether it is right, with the reason. `echo` repeats the
/// answer read (when the input is not a terminal, nobody saw it typed). `paint` is for tests.
pub fn check(
    quiz: &Quiz,
    input: &mut impl BufRead,
    out: &mut impl Write,
    quiet: bool,
    echo: bool,
    paint: impl Fn(String) -> String,
) -> Score {
    let mut score = Score::default();
    if !quiet {
        let _ = writeln!(
            out,
            "Type your answer to each question and press Enter (an empty line skips it)."
        );
    }
    for (number, question) in quiz.questions.iter().enumerate() {
        if !quiet {
            let _ = writeln!(out);
            for (i, text) in question.setup.iter().enumerate() {
                let lead = if i == 0 {
                    format!("Q{}.", number + 1)
                } else {
                    String::new()
                };
                let _ = writeln!(out, "{}", format!("{lead:<4}{text}").trim_end());
            }
        }
        for (i, ask) in question.asks.iter().enumerate() {
            let letter = char::from(b'a' + (i % 26) as u8);
            if !quiet {
                let _ = write!(out, "    {letter}) {}? ", ask.prompt);
                let _ = out.flush();
            }
            let mut line = String::new();
            let _ = input.read_line(&mut line);
            let given = line.trim().to_string();
            let right = !given.is_empty() && matches(&given, &ask.answer);
            if !quiet {
                if echo {
                    let _ = writeln!(out, "{given}");
                }
                let verdict = if right {
                    paint(style::green(&format!("✓ right: {}", ask.answer)))
                } else if given.is_empty() {
                    paint(style::red(&format!("✗ no answer: it is {}", ask.answer)))
                } else {
                    paint(style::red(&format!("✗ not quite: it is {}", ask.answer)))
                };
                let _ = writeln!(out, "       {verdict}  ({})", ask.why);
            }
            score.asked += 1;
            score.right += usize::from(right);
            score.asks.push(Checked {
                prompt: ask.prompt.clone(),
                given,
                answer: ask.answer.clone(),
                why: ask.why.clone(),
                right,
            });
        }
    }
    score
}

/// Whether `given` says what `answer` says. Both are read as words and numbers, whatever the
/// case, punctuation, units (`×`, `%`, `ms`, `s`) and thousands separators: the numbers must
/// be the answer's, in its order (a number repeated next to itself counts once, as in `272;
/// 272 is reaped`), each equal to the precision the answer gives (`1.98` takes 1.976 to
/// 1.984); and every word that carries meaning must be there (`zombie`, `yes`, `T1`). Filler
/// words may be left out (`parent`, `step`, `by`, ...), and so may thread letters beside step
/// numbers (`step 9 (B) over step 8 (A)` is answered by `9 over 8`).
pub fn matches(given: &str, answer: &str) -> bool {
    let (given_words, given_numbers) = tokens(given);
    let (answer_words, answer_numbers) = tokens(answer);
    if given_numbers.len() != answer_numbers.len()
        || !given_numbers
            .iter()
            .zip(&answer_numbers)
            .all(|(g, (a, decimals))| (g.0 - a).abs() <= 0.5 * 10f64.powi(-(*decimals as i32)) + 1e-9)
    {
        return false;
    }
    const FILLER: [&str; 22] = [
        "the", "an", "of", "and", "or", "is", "are", "by", "at", "to", "in", "its", "it", "parent", "step", "steps",
        "over", "reaped", "exited", "with", "status", "x",
    ];
    answer_words.iter().all(|word| {
        let letter_beside_numbers = word.chars().count() == 1 && !answer_numbers.is_empty();
        FILLER.contains(&word.as_str()) || letter_beside_numbers || given_words.contains(word)
    })
}

/// The words (lower case) and the numbers (with the decimals written) of a text.
fn tokens(text: &str) -> (Vec<String>, Vec<(f64, usize)>) {
    let text = text.to_lowercase().replace('−', "-").replace(['×', '%', '–', '—'], " ");
    // A comma between digits separates thousands: "1,680" is one number.
    let chars: Vec<char> = text.chars().collect();
    let cleaned: String = chars
        .iter()
        .enumerate()
        .filter(|&(i, &c)| {
            !(c == ','
                && i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
                && chars.get(i + 4).is_none_or(|next| !next.is_ascii_digit()))
        })
        .map(|(_, &c)| c)
        .collect();
    let mut words = Vec::new();
    let mut numbers: Vec<(f64, usize)> = Vec::new();
    for token in cleaned.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-')) {
        let token = token.trim_matches(|c| c == '.' || c == '-');
        if token.is_empty() {
            continue;
        }
        let unit = ["ms", "s", "x"]
            .into_iter()
            .find_map(|unit| token.strip_suffix(unit).filter(|number| number.parse::<f64>().is_ok()));
        let number = unit.unwrap_or(token);
        if let Ok(value) = number.parse::<f64>() {
            let decimals = number.split_once('.').map_or(0, |(_, fraction)| fraction.len());
            if numbers.last().is_none_or(|&(last, _)| last != value) {
                numbers.push((value, decimals));
            }
        } else if !matches!(token, "ms" | "s" | "x") {
            words.push(token.to_string());
        }
    }
    (words, numbers)
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
    fn answers_are_read_as_numbers_and_words() {
        for (given, answer) in [
            ("8", "8"),
            ("1.976", "1.98×"),
            ("1.98x", "1.98×"),
            ("88", "88%"),
            ("1680", "1680"),
            ("1,680", "1680"),
            ("12", "12 ms"),
            ("12ms", "12 ms"),
            ("t0", "T0"),
            ("Yes", "yes"),
            ("zombie 270", "zombie, parent 270"),
            ("gone, 270", "gone, reaped by 270"),
            ("272 reaped, status 4", "272; 272 is reaped (exited with status 4)"),
            ("9 over 8", "step 9 (B) over step 8 (A)"),
            ("0.250", "0.25"),
        ] {
            assert!(matches(given, answer), "'{given}' should answer '{answer}'");
        }
        for (given, answer) in [
            ("9", "8"),
            ("1.99", "1.98×"),
            ("8 over 9", "step 9 (B) over step 8 (A)"),
            ("running 270", "zombie, parent 270"),
            ("T1", "T0"),
            ("no", "yes"),
            ("272", "272; 272 is reaped (exited with status 4)"),
        ] {
            assert!(!matches(given, answer), "'{given}' should not answer '{answer}'");
        }
    }

    #[test]
    fn check_asks_each_question_and_scores_the_answers_read() {
        let mut quiz = sample();
        quiz.question("A counter at 5; one thread adds 2.")
            .ask("The final counter", "7", "5 + 2")
            .ask("Updates lost", "0", "one thread alone loses nothing");
        let mut input = std::io::Cursor::new("1\n8\n\n");
        let mut out = Vec::new();
        let score = check(&quiz, &mut input, &mut out, false, true, |text| text);
        let text = String::from_utf8(out).unwrap();
        assert_eq!((score.right, score.asked), (1, 3), "{text}");
        assert!(text.contains("a) The final counter? 1\n"), "{text}");
        assert!(text.contains("✓ right: 1  (B's store overwrote A's)"), "{text}");
        assert!(text.contains("✗ not quite: it is 7  (5 + 2)"), "{text}");
        assert!(text.contains("✗ no answer: it is 0"), "{text}");
        assert_eq!(score.asks[1].given, "8");
        assert!(!score.asks[2].right);
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
