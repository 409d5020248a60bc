//! A slow "user info" server on this machine, for the lessons about waiting: it stands in for
//! GitHub's user API (the lecture fetches `https://api.github.com/users/<login>`) without using
//! the internet, and speaks the same HTTP/1.1:
//!
//! ```text
//! $ cargo run -p slowserver -- --delay-ms 200
//! http://127.0.0.1:41234
//! $ curl http://127.0.0.1:41234/users/gvanrossum        (waits about 200 ms)
//! {"login":"gvanrossum","id":3141592,"name":"Ada Byron","created_at":"2011-03-04T05:06:07Z","public_repos":12}
//! ```
//!
//! What each login gets is decided by the seed alone ([`Config::plan`]): its record, its delay,
//! and whether it is one of the injected failures, a `503` error or a hang that outlasts any
//! client timeout. So a run with the same seed sees the same records and exactly the same
//! failures, in whatever order and with however many clients it asks.
//!
//! - [`Config`]: the delay, jitter, error and timeout rates, an optional limit on requests
//!   served at once;
//! - [`Server`]: the server on a background thread of this process (for tests);
//!   [`ServerProcess`]: the server in a child process of its own, started with
//!   `course::children::fork`, so that its sockets, threads and CPU time are not the lesson's;
//!   [`serve_in_foreground`]: the server as a program of its own (`cargo run -p slowserver`);
//! - [`client`]: a blocking client (`ureq`), an async one (hyper's, on tokio), and a bare
//!   HTTP/1.1 connection whose steps a lesson can time; [`UrlTemplate`] points them at any
//!   server with GitHub's user API (`--url`), and [`Trust`] says which certificates HTTPS trusts;
//! - [`protocol`]: the paths, statuses and the record; no keep-alive: one request, one
//!   connection (the module says why);
//! - [`system`]: the open-file and task limits that decide how many connections fit, and a
//!   check that no port is left listening.
//!
//! The server is event-driven (a tokio runtime on one thread), so it holds tens of thousands of
//! connections that are all waiting on their delay.
//!
//! ```
//! use slowserver::{Config, Server, fetch_user};
//! use std::time::Duration;
//!
//! let config = Config { delay: Duration::from_millis(5), ..Config::default() };
//! let server = Server::start(config.clone())?;
//! let record = fetch_user(server.addr(), "ada", Duration::from_secs(10))?;
//! assert_eq!(record, config.record("ada")); // the seed decides every record
//! let stats = server.stop(); // closes the port and every connection
//! assert_eq!((stats.user_requests, stats.records_sent), (1, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod client;
mod config;
pub mod overlap;
pub mod protocol;
mod server;
pub mod system;

pub use client::{AsyncClient, FetchResult, Trust, UrlTemplate, fetch_user, fetch_user_async};
pub use config::{Config, Fate, Plan};
pub use protocol::{FetchError, UserRecord};
pub use server::{Server, ServerProcess, Stats, current_thread_runtime, serve_in_foreground};
