//! Section 4: stop the servers and check that nothing is left.

use crate::Params;
use anyhow::bail;
use course::timing::format;
use course::{Lesson, say};
use slowserver::system;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let mut ports_left_listening = 0;
    let mut ports = Vec::new();
    match p.servers.take() {
        Some(servers) => {
            for (name, server) in ["slow server", "quicker server"].into_iter().zip(servers) {
                let (port, pid) = (server.port(), server.pid());
                ports.push(port);
                let stats = server.stop()?;
                let listening = system::is_listening(port);
                ports_left_listening += usize::from(listening == Some(true));
                say!(
                    lesson,
                    "  {name} (pid {pid}): SIGTERM, exited, reaped; port {port} {} (last run: {} connections at once)",
                    match listening {
                        Some(true) => "STILL LISTENING",
                        Some(false) => "closed",
                        None => "(cannot be checked here)",
                    },
                    format::count(stats.peak_open_connections)
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
            "  threads in this process: {threads}; child processes left: {}",
            course::children::live()
        );
    }
    lesson.figure("server_ports", &ports);
    lesson.figure("ports_left_listening", ports_left_listening);
    lesson.figure("child_processes_left", course::children::live());
    lesson.figure("threads_left", threads);
    if ports_left_listening > 0 {
        bail!("a server port still listens after its server stopped");
    }
    lesson.notice(
        "Every experiment ran in a child process that was reaped, and each server closed its port when told: \
nothing outlives the lesson.",
    );
    Ok(())
}
