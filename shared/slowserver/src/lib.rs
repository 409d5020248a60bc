//! A slow "user info" server on this machine, for the lessons about waiting: it stands in for
//! a web API (the lecture fetches GitHub user records) without using the internet.
//!
//! The server listens on `127.0.0.1` on a port the OS picks and speaks a one-line protocol:
//!
//! ```text
//! client: GET user ada\n
//! server: (waits about `delay`, ± `jitter`)
//!         200 {"login":"ada","name":"Ada Byron","id":3141592,"joined":"2011-03-04T05:06:07Z","public_repos":12}\n
//!         (and closes the connection)
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
//! - [`client`]: a blocking client (open, send, receive, each step separate so that a lesson
//!   can time them) and an async one for tokio;
//! - [`protocol`]: the request and reply lines and the record;
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
pub mod protocol;
mod server;
pub mod system;

pub use client::{fetch_user, fetch_user_async};
pub use config::{Config, Fate, Plan};
pub use protocol::{FetchError, UserRecord};
pub use server::{Server, ServerProcess, Stats};
