//! The presenter's controls and the projector's width.
//!
//! Under `--step` on a terminal, the lesson pauses before each section and before each answer
//! it reveals, and reads one key: Enter goes on, `q` quits, `r` shows the last section again,
//! `s` skips the next one. Ctrl-C at a pause interrupts the lesson as it would anywhere else.
//! Text is wrapped to the terminal's width, or to [`PAGE_WIDTH`] columns when stdout is not a
//! terminal.

use nix::sys::termios::{self, LocalFlags, SetArg};
use std::io::{IsTerminal, Read};
use std::os::fd::AsFd;

/// The widest line a lesson prints when stdout is not a terminal (a projector shows about 100).
pub const PAGE_WIDTH: usize = 100;

/// What the presenter pressed at a pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// Enter (or any other key): go on.
    Next,
    /// `q`, or Ctrl-D: stop the lesson cleanly.
    Quit,
    /// `r`: show the last section again.
    Again,
    /// `s`: skip the next section.
    Skip,
}

/// Whether pauses can be read: stdin and stdout are both a terminal.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Reads one key from the terminal without waiting for Enter. Ctrl-C raises SIGINT, so the
/// lesson's interrupt handler runs as usual (after the terminal's settings are put back).
pub fn read_key() -> Key {
    let stdin = std::io::stdin();
    let saved = termios::tcgetattr(stdin.as_fd()).ok();
    if let Some(saved) = &saved {
        let mut raw = saved.clone();
        // One key at a time, not echoed; Ctrl-C arrives as a byte and is handled below, so the
        // terminal is never left without echo.
        raw.local_flags
            .remove(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG);
        let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
    }
    let mut byte = [0u8; 1];
    let read = stdin.lock().read(&mut byte);
    if let Some(saved) = &saved {
        let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, saved);
    }
    match read {
        Ok(0) | Err(_) => Key::Quit,
        Ok(_) => match byte[0] {
            3 => {
                let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGINT);
                Key::Quit
            }
            4 | b'q' | b'Q' => Key::Quit,
            b'r' | b'R' => Key::Again,
            b's' | b'S' => Key::Skip,
            _ => Key::Next,
        },
    }
}

/// The width text wraps at: the terminal's, or [`PAGE_WIDTH`] when stdout is not a terminal.
pub fn width() -> usize {
    if std::io::stdout().is_terminal()
        && let Some((terminal_size::Width(columns), _)) = terminal_size::terminal_size()
    {
        return usize::from(columns).max(40);
    }
    PAGE_WIDTH
}

/// How many columns `text` takes: characters, not counting colour codes.
pub fn columns(text: &str) -> usize {
    let mut count = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => count += 1,
        }
    }
    count
}

/// Wraps one line at `width` columns between words. Continuation lines keep the line's own
/// indentation plus `hang` spaces. A word longer than the width stays whole on its own line.
pub fn wrap(line: &str, width: usize, hang: usize) -> Vec<String> {
    if columns(line) <= width {
        return vec![line.to_string()];
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    let continuation = " ".repeat(indent + hang);
    let mut lines = Vec::new();
    let mut current = " ".repeat(indent);
    let mut current_columns = indent;
    let mut fresh = true;
    for word in line.trim_start_matches(' ').split(' ') {
        let word_columns = columns(word);
        if !fresh && current_columns + 1 + word_columns > width {
            lines.push(std::mem::replace(&mut current, continuation.clone()));
            current_columns = continuation.len();
            fresh = true;
        }
        if !fresh {
            current.push(' ');
            current_columns += 1;
        }
        current.push_str(word);
        current_columns += word_columns;
        fresh = false;
    }
    lines.push(current);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_stay_as_they_are() {
        assert_eq!(wrap("  two words", 40, 2), vec!["  two words"]);
    }

    #[test]
    fn long_lines_wrap_between_words_with_a_hanging_indent() {
        let line = "  → Notice: the fastest fix shares nothing, and every fix is exact in every run";
        let lines = wrap(line, 40, 4);
        assert!(lines.len() > 1, "{lines:?}");
        for wrapped in &lines {
            assert!(columns(wrapped) <= 40, "{wrapped:?}");
        }
        assert!(lines[1].starts_with("      ") && !lines[1].starts_with("       "));
        let words: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
        let original: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words, original, "no word lost or split");
    }

    #[test]
    fn colour_codes_take_no_columns() {
        assert_eq!(columns("\x1b[1mbold\x1b[0m"), 4);
        assert_eq!(columns("█▏ 1.97×"), 8);
    }

    #[test]
    fn a_word_longer_than_the_width_stays_whole() {
        let lines = wrap("a verylongwordthatdoesnotfit b", 10, 0);
        assert_eq!(lines, vec!["a", "verylongwordthatdoesnotfit", "b"]);
    }
}
