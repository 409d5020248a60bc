//! The server in a child process of its own: it starts, serves, stops cleanly when told, and
//! leaves no process and no listening port behind.
//!
//! A plain `main` instead of the test harness: the course forks only while a process has a
//! single thread, and the harness runs tests on threads of their own.

use slowserver::{Config, ServerProcess, fetch_user, system};
use std::time::Duration;

fn main() {
    let config = Config {
        delay: Duration::from_millis(5),
        error_rate: 0.5,
        ..Config::default()
    };
    let server = ServerProcess::start(&config).expect("the server process starts");
    let port = server.port();
    assert_ne!(port, 0);
    if let Some(listening) = system::is_listening(port) {
        assert!(listening, "the server should listen on {port}");
    }
    assert_eq!(course::children::live(), 1);

    // Answers are the plan's: a record for some logins, a 503 for the others.
    let logins: Vec<String> = (0..20).map(|i| format!("user{i:02}")).collect();
    let mut errors = 0;
    for login in &logins {
        match fetch_user(server.addr(), login, Duration::from_secs(30)) {
            Ok(record) => assert_eq!(record, config.record(login)),
            Err(error) => {
                assert!(error.is_server_error(), "{error:?}");
                assert_eq!(config.plan(login).fate, slowserver::Fate::Error);
                errors += 1;
            }
        }
    }
    let planned = logins
        .iter()
        .filter(|login| config.plan(login).fate == slowserver::Fate::Error)
        .count();
    assert_eq!(errors, planned);

    let stats = server.stop().expect("the server stops cleanly");
    assert_eq!(stats.user_requests, 20);
    assert_eq!(stats.distinct_logins, 20);
    assert_eq!(stats.errors_sent as usize, planned);
    assert_eq!(stats.records_sent as usize, 20 - planned);

    // Nothing left: no child to reap, no port listening.
    assert_eq!(course::children::live(), 0);
    assert!(matches!(
        nix::sys::wait::waitpid(None, Some(nix::sys::wait::WaitPidFlag::WNOHANG)),
        Err(nix::errno::Errno::ECHILD)
    ));
    if let Some(listening) = system::is_listening(port) {
        assert!(!listening, "port {port} still listens after stop");
    }

    // A server that is dropped without `stop` is killed and reaped all the same.
    let dropped = ServerProcess::start(&config).expect("a second server starts");
    drop(dropped);
    assert_eq!(course::children::live(), 0);
    eprintln!("server_process: ok");
}
