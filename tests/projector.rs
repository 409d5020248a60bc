//! Every section fits a projector: at most 30 lines and no line wider than 100 columns, as the
//! lesson prints it when stdout is not a terminal (`--quick`; full sizes are measured by hand
//! and given in the closing notes of the issue that set the rule).

use crate::support::{binary, for_every_lesson};
use testkit::Run;

/// The most lines a section may take: a projected terminal shows about 30.
pub const SECTION_HEIGHT: usize = 30;
/// The widest line: a projected terminal shows about 100 columns.
pub const LINE_WIDTH: usize = 100;

/// The sections of a lesson's text output: (title line, the lines of the section, title included).
pub fn sections(stdout: &str) -> Vec<(String, Vec<String>)> {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in stdout.lines() {
        let is_title = line
            .split_once(". ")
            .is_some_and(|(number, _)| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()));
        if is_title {
            sections.push((line.to_string(), Vec::new()));
        }
        if line.starts_with("End of ") {
            break;
        }
        if let Some((_, lines)) = sections.last_mut() {
            lines.push(line.to_string());
        }
    }
    // A section's blank last line separates it from the next title; it is not its own.
    for (_, lines) in &mut sections {
        while lines.last().is_some_and(|line| line.trim().is_empty()) {
            lines.pop();
        }
    }
    sections
}

#[test]
fn every_section_fits_a_projector() {
    for_every_lesson(|lesson| {
        let outcome = Run::new(binary(lesson)).args(["--quick"]).go();
        outcome.assert_code(0);
        let mut problems = Vec::new();
        for line in outcome.stdout.lines() {
            let width = line.chars().count();
            if width > LINE_WIDTH {
                problems.push(format!("{width} columns: {line}"));
            }
        }
        for (title, lines) in sections(&outcome.stdout) {
            if lines.len() > SECTION_HEIGHT {
                problems.push(format!("section '{title}' is {} lines tall", lines.len()));
            }
        }
        assert!(
            problems.is_empty(),
            "{lesson} does not fit a projector (at most {SECTION_HEIGHT} lines a section, \
             {LINE_WIDTH} columns a line):\n{}",
            problems.join("\n")
        );
    });
}

#[test]
fn sections_are_cut_at_their_titles() {
    let text = "lesson · x\n  machine\n\n1. One\n  a\n  b\n\n2. Two\n  c\n\nEnd of lesson (1 s).\n";
    let found = sections(text);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].1, ["1. One", "  a", "  b"]);
    assert_eq!(found[1].1, ["2. Two", "  c"]);
}
