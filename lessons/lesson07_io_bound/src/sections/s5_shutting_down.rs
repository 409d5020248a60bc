//! Section 5: stop the servers and check that nothing is left.

use crate::Params;
use course::{Lesson, say};
use slowserver::system;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let mut ports_left_listening = 0;
    let mut ports = Vec::new();
    match p.servers.take() {
        Some(servers) => {
            for (name, server) in [("reliable server", servers.reliable), ("flaky server", servers.flaky)] {
                let (port, pid) = (server.port(), server.pid());
                ports.push(port);
                server.stop()?;
                let listening = system::is_listening(port);
                ports_left_listening += usize::from(listening == Some(true));
                say!(
                    lesson,
                    "  {name} (pid {pid}): SIGTERM, exited cleanly, reaped; port {port} {}",
                    match listening {
                        Some(true) => "STILL LISTENING",
                        Some(false) => "closed",
                        None => "(cannot be checked here)",
                    }
                );
            }
        }
        None if p.url.is_some() => say!(lesson, "  No local server ran (--url): nothing to stop."),
        None => say!(lesson, "  The servers were stopped already."),
    }
    let threads = course::children::thread_count();
    if let Some(threads) = threads {
        say!(
            lesson,
            "  threads in this process now: {threads} (every pool joined its workers)"
        );
    }
    lesson.figure("server_ports", &ports);
    lesson.figure("ports_left_listening", ports_left_listening);
    lesson.figure("child_processes_left", course::children::live());
    lesson.figure("threads_left", threads);
    if ports_left_listening > 0 {
        anyhow::bail!("a server port is still listening after its server stopped");
    }
    lesson.notice(
        "A pool joins its workers when its work is done, and a server closes its port when told to stop: \
nothing outlives the lesson.",
    );
    Ok(())
}
