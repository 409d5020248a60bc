//! The speed verdict for lesson 08's exercise (`cargo homework 08` runs it once the checks
//! pass): your fetch against the reference's, the same logins from the same slow server, each
//! on tokio's current-thread runtime. The work is waiting, so what counts is how many waits
//! overlap. Built only with `--features speed`.

use lesson08_async_exercise::{self as yours, reference};
use slowserver::overlap::Overlap;
use slowserver::{Config, Server};
use std::time::Duration;

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
