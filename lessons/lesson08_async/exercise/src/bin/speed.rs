//! The speed verdict for lesson 08's exercise (`cargo homework 08` runs it once the checks
//! pass): your fetch against the reference's, the same logins from the same slow server, each
//! on tokio's current-thread runtime. The work is waiting, so what counts is how many waits
//! overlap. Built only with `--features speed`.

use lesson08_async_exercise::{self as yours, FetchResult, reference};
use slowserver::{Config, Server};
use std::cell::Cell;
use std::fmt;
use std::time::Duration;

/// One fetch's answer, compared whole; shown as a count of records and errors.
#[derive(PartialEq)]
struct Fetched(Vec<FetchResult>);

impl fmt::Display for Fetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let records = self.0.iter().filter(|result| result.is_ok()).count();
        write!(
            f,
            "{} and {}",
            homework::speed::plural(records as u64, "record"),
            homework::speed::plural((self.0.len() - records) as u64, "error")
        )
    }
}

/// The most requests one version had waiting on the server at once, in each timed run; the
/// least of those is kept (a connection still closing from the run before can only add one).
#[derive(Default)]
struct Overlap(Cell<Option<u64>>);

impl Overlap {
    /// Runs `fetch` with the server's figures zeroed first, and notes its overlap.
    fn watch(&self, server: &Server, fetch: impl FnOnce() -> Vec<FetchResult>) -> Fetched {
        server.reset_stats();
        let results = fetch();
        let peak = server.stats().peak_open_connections;
        self.0.set(Some(self.0.get().map_or(peak, |least| least.min(peak))));
        Fetched(results)
    }

    /// One line for the verdict: the overlap that the times come from.
    fn note(yours: &Overlap, reference: &Overlap) -> String {
        let most = |overlap: &Overlap| overlap.0.get().unwrap_or_default();
        format!(
            "requests waiting on the server at once: yours at most {}, the reference {}",
            most(yours),
            most(reference)
        )
    }
}

fn main() {
    let mut speed = homework::speed::Speed::from_args();
    let (n_logins, delay) = if speed.quick() {
        (16, Duration::from_millis(5))
    } else {
        (32, Duration::from_millis(20))
    };
    let started = Server::start(Config {
        delay,
        ..Config::default()
    })
    .and_then(|server| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok((server, runtime))
    });
    let (server, runtime) = match started {
        Ok(started) => started,
        Err(error) => {
            speed.note(format!(
                "no speed verdict: the slow server or the runtime did not start ({error})"
            ));
            std::process::exit(speed.finish());
        }
    };
    let addr = server.addr();
    let logins: Vec<String> = (0..n_logins).map(|i| format!("user{i:04}")).collect();
    // Far longer than any reply takes here: no request times out, so both give every record.
    let timeout = Duration::from_secs(10);
    let (your_overlap, reference_overlap) = (Overlap::default(), Overlap::default());
    speed.compare_waiting(
        "fetch_all_concurrently",
        format!(
            "{n_logins} logins on one thread, a server that answers each in {} ms",
            delay.as_millis()
        ),
        1,
        "requests awaited one after another, or a blocking call that holds the thread",
        || {
            reference_overlap.watch(&server, || {
                runtime.block_on(reference::fetch_all_concurrently(addr, &logins, timeout))
            })
        },
        || {
            your_overlap.watch(&server, || {
                runtime.block_on(yours::fetch_all_concurrently(addr, &logins, timeout))
            })
        },
    );
    speed.note(Overlap::note(&your_overlap, &reference_overlap));
    server.stop();
    std::process::exit(speed.finish());
}
