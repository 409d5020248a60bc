//! The speed verdict for lesson 07's exercise (`cargo homework 07` runs it once the checks
//! pass): your pool against the reference's, the same logins from the same slow server, with
//! the same number of workers. The work is waiting, so what counts is how many waits overlap.
//! Built only with `--features speed`.

use lesson07_io_bound_exercise::{self as yours, NextLogin, reference};
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
    let n_workers = 8;
    let config = Config {
        delay,
        ..Config::default()
    };
    let server = match Server::start(config) {
        Ok(server) => server,
        Err(error) => {
            speed.note(format!("no speed verdict: the slow server did not start ({error})"));
            std::process::exit(speed.finish());
        }
    };
    let addr = server.addr();
    let logins: Vec<String> = (0..n_logins).map(|i| format!("user{i:04}")).collect();
    // Far longer than any reply takes here: no request times out, so both give every record.
    let timeout = Duration::from_secs(10);
    let (your_overlap, reference_overlap) = (Overlap::default(), Overlap::default());
    speed.compare_waiting(
        "fetch_all_with_pool",
        format!(
            "{n_logins} logins, {n_workers} workers, a server that answers each in {} ms",
            delay.as_millis()
        ),
        n_workers,
        "a lock held while a worker waits on the server, or workers that take turns",
        || {
            reference_overlap.watch(&server, || {
                reference::fetch_all_with_pool(addr, &logins, n_workers, timeout, &NextLogin::new())
            })
        },
        || {
            your_overlap.watch(&server, || {
                yours::fetch_all_with_pool(addr, &logins, n_workers, timeout, &NextLogin::new())
            })
        },
    );
    speed.note(Overlap::note(&your_overlap, &reference_overlap));
    server.stop();
    std::process::exit(speed.finish());
}
