//! Reading the text that `threads::write_lines_in_two_pieces` and `write_whole_lines` wrote:
//! who wrote each line, how often the writer changed, and which lines were torn apart.

/// What one run of the line writers produced.
#[derive(Debug, serde::Serialize)]
pub struct LinesSummary {
    /// Lines written (counted by their "Thread-N: " pieces).
    pub lines: usize,
    /// Lines whose two pieces were separated by another thread's.
    pub torn: usize,
    /// How often the writer changed from one line to the next.
    pub switches: usize,
    /// The writer of 64 lines spread evenly over the run, one digit each.
    pub strip: String,
    pub torn_example: Option<String>,
}

pub fn summarize_lines(text: &str) -> LinesSummary {
    // The writers in order, from the heads: "Thread-N: " marks the start of every line.
    let writers: Vec<usize> = text
        .split("Thread-")
        .skip(1)
        .filter_map(|piece| piece.split(':').next()?.parse().ok())
        .collect();
    let whole = |line: &str| {
        line.strip_prefix("Thread-")
            .and_then(|rest| rest.split_once(": "))
            .is_some_and(|(t, i)| t.parse::<usize>().is_ok() && i.parse::<usize>().is_ok())
    };
    // A line is torn when another thread's line starts right after its head.
    let torn = text.matches(": Thread-").count();
    let strip: String = (0..64)
        .filter_map(|k| writers.get(k * writers.len() / 64))
        .map(|w| char::from_digit((*w % 36) as u32, 36).unwrap_or('?'))
        .collect();
    LinesSummary {
        lines: writers.len(),
        torn,
        switches: writers.windows(2).filter(|w| w[0] != w[1]).count(),
        strip,
        torn_example: text.lines().find(|line| !whole(line)).map(|line| line.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lines_never_tear_and_every_line_is_counted() {
        let text = crate::threads::write_whole_lines(4, 500).unwrap();
        let summary = summarize_lines(&text);
        assert_eq!(summary.lines, 2000);
        assert_eq!(summary.torn, 0);
        assert_eq!(summary.strip.chars().count(), 64);
        let torn = summarize_lines("Thread-1: Thread-2: 7\n3\nThread-1: 4\n");
        assert_eq!(torn.lines, 3);
        assert_eq!(torn.torn, 1);
        assert_eq!(torn.torn_example.as_deref(), Some("Thread-1: Thread-2: 7"));
    }
}
