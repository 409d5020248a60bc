//! The slow server as a program of its own: `cargo run -p slowserver -- [flags]` prints its
//! URL (`http://127.0.0.1:PORT`) as the first line of standard output and serves until Ctrl-C.
//! Try it with `curl URL/users/gvanrossum`, a browser, or Python's `urllib.request.urlopen`.

use clap::Parser;
use slowserver::{Config, serve_in_foreground, system};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "slowserver",
    about = "A slow user-info server on 127.0.0.1 that speaks HTTP/1.1 like GitHub's user API: GET \
/users/{login} answers a JSON record after a delay, with seeded 503 errors and hangs on demand; GET \
/stats gives its figures. Prints its URL first, then serves until Ctrl-C."
)]
struct Args {
    /// The usual time before an answer, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    delay_ms: u64,
    /// How far each login's delay may move either way, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    jitter_ms: u64,
    /// Fraction of logins answered with 503 Service Unavailable
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    error_rate: f64,
    /// Fraction of logins that hang (answered only after --hang-ms)
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    timeout_rate: f64,
    /// How long a hanging login keeps its client waiting, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    hang_ms: u64,
    /// At most this many requests are worked on at once; the others queue [default: no limit]
    #[arg(long, value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_in_flight: Option<u64>,
    /// The seed every login's record, delay and fate come from
    #[arg(long, value_name = "N", default_value_t = 2016)]
    seed: u64,
    /// The port on 127.0.0.1 [default: 0, one the OS picks]
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    port: u16,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = Config {
        delay: Duration::from_millis(args.delay_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        error_rate: args.error_rate,
        timeout_rate: args.timeout_rate,
        hang: Duration::from_millis(args.hang_ms),
        max_in_flight: args.max_in_flight.map(|n| n as usize),
        seed: args.seed,
        ..Config::default()
    };
    if let Err(why) = config.validate() {
        eprintln!("slowserver: error: {why}");
        return ExitCode::from(2);
    }
    if args.jitter_ms > args.delay_ms {
        eprintln!(
            "slowserver: error: --jitter-ms ({}) cannot be more than --delay-ms ({})",
            args.jitter_ms, args.delay_ms
        );
        return ExitCode::from(2);
    }
    // Every connection costs a file descriptor: allow as many as the OS permits.
    let _ = system::raise_open_file_limit();
    let served = serve_in_foreground(config, args.port, |addr| {
        // The URL first, alone on its line, so that a script can read it.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "http://{addr}");
        let _ = out.flush();
        eprintln!("slowserver: try `curl http://{addr}/users/gvanrossum`; figures at /stats; Ctrl-C stops");
    });
    match served {
        Ok(stats) => {
            eprintln!(
                "slowserver: stopped after {} requests ({} records, {} errors, {} hangs); the port is closed",
                stats.user_requests, stats.records_sent, stats.errors_sent, stats.hangs
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("slowserver: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
