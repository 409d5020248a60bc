//! What a client did to this server, for timing one client against another (the homework's
//! speed verdicts of lessons 07 and 08): its results compared whole and shown as counts, and how
//! many of its requests waited on the server at once.

use crate::{FetchResult, Server};
use course::timing::format::plural;
use std::cell::Cell;
use std::fmt;

/// One fetch's results, compared whole; shown as a count of records and errors.
#[derive(PartialEq)]
pub struct Fetched(pub Vec<FetchResult>);

impl fmt::Display for Fetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let records = self.0.iter().filter(|result| result.is_ok()).count();
        let errors = self.0.len() - records;
        write!(
            f,
            "{} and {}",
            plural(records as u64, "record"),
            plural(errors as u64, "error")
        )
    }
}

/// The most requests one client had waiting on the server at once, in each of its runs; the
/// least of those is kept (a connection still closing from the run before can only add one).
#[derive(Default)]
pub struct Overlap(Cell<Option<u64>>);

impl Overlap {
    /// Runs `fetch` with the server's figures zeroed first, and notes its overlap.
    pub fn watch(&self, server: &Server, fetch: impl FnOnce() -> Vec<FetchResult>) -> Fetched {
        server.reset_stats();
        let results = fetch();
        let peak = server.stats().peak_open_connections;
        self.0.set(Some(self.0.get().map_or(peak, |least| least.min(peak))));
        Fetched(results)
    }

    /// The least, over the runs watched, of the most requests waiting at once (0 before any).
    pub fn least(&self) -> u64 {
        self.0.get().unwrap_or_default()
    }

    /// One line for a verdict: "requests waiting on the server at once: yours at most 8, the
    /// reference 8".
    pub fn note(yours: &Overlap, reference: &Overlap) -> String {
        format!(
            "requests waiting on the server at once: yours at most {}, the reference {}",
            yours.least(),
            reference.least()
        )
    }
}
