//! The knobs as they really are after defaults and this machine's limits: fewer connections
//! when the open files, the tasks or the address space allowed here cannot hold the ones asked
//! for, said in a warning that names the limit.

use crate::Args;
use crate::clients::Target;
use course::Lesson;
use course::python::Python;
use course::timing::format;
use slowserver::{Config, ServerProcess, Trust, UrlTemplate, system};
use std::time::Duration;

/// What every section reads, and the servers until section 4 stops them.
pub struct Params {
    pub requested: usize,
    pub connections: usize,
    pub pitfall_connections: usize,
    /// The slow server's delay (sections 1 and 2).
    pub delay: Duration,
    /// The quicker server's delay (the trace of section 2, and section 3).
    pub pitfall_delay: Duration,
    pub blocking_work: Duration,
    pub seed: u64,
    /// `--url`: an outside server, and `--logins`.
    pub url: Option<UrlTemplate>,
    pub chosen_logins: Option<Vec<String>>,
    pub trust: Trust,
    /// The slow server and the quicker one (none with `--url`).
    pub servers: Option<[ServerProcess; 2]>,
    /// What was found about the limits, in a few words each.
    pub limits_said: Vec<String>,
    /// Whether the limits were checked (section 1 does it once).
    pub fitted: bool,
    /// The CPython that runs the same clients (`python/event_loop.py`) in section 1, if any.
    pub python: Python,
}

/// The thread stack every client thread reserves (Rust's default for spawned threads).
const THREAD_STACK: u64 = 2 << 20;

impl Params {
    pub fn from_args(args: &Args, lesson: &Lesson) -> anyhow::Result<Params> {
        let delay = args
            .delay
            .unwrap_or(lesson.pick(Duration::from_millis(150), Duration::from_millis(3000)));
        let trust = match &args.ca_cert {
            Some(path) => Trust::from_pem_file(path).map_err(|why| course::usage_error(format!("--ca-cert {why}")))?,
            None => Trust::WebPki,
        };
        // An outside server gets the lecture's few logins, not ten thousand connections.
        let requested = match (&args.logins, &args.url) {
            (Some(logins), _) => logins.len(),
            (None, Some(_)) => args.connections.unwrap_or(4).min(50),
            (None, None) => args.connections.unwrap_or(lesson.pick(200, 10_000)),
        };
        Ok(Params {
            requested,
            connections: requested,
            pitfall_connections: requested.min(lesson.pick(100, 1000)),
            delay,
            pitfall_delay: delay / 3,
            blocking_work: args.blocking_work.unwrap_or(delay / 10),
            seed: lesson.seed(),
            url: args.url.clone(),
            chosen_logins: args.logins.clone(),
            trust,
            servers: None,
            limits_said: Vec::new(),
            fitted: false,
            // Asked only once every flag is known to be right: it prints under the header.
            python: Python::find(lesson, &args.python),
        })
    }

    /// A server that answers every request after `delay` ± 10%.
    pub fn server_config(&self, delay: Duration) -> Config {
        Config {
            delay,
            jitter: delay / 10,
            seed: self.seed,
            // Failures belong to lesson 07: here every client gets its record.
            ..Config::default()
        }
    }

    /// The slow local server, when there is one.
    pub fn slow_server(&self) -> Option<&ServerProcess> {
        self.servers.as_ref().map(|[slow, _]| slow)
    }

    /// The quicker local server, when there is one.
    pub fn quicker_server(&self) -> Option<&ServerProcess> {
        self.servers.as_ref().map(|[_, quicker]| quicker)
    }

    /// Where section 1 fetches from.
    pub fn target(&self) -> Option<Target> {
        let url = self
            .url
            .clone()
            .or_else(|| self.slow_server().map(|server| UrlTemplate::local(server.addr())))?;
        Some(Target {
            url,
            trust: self.trust.clone(),
        })
    }

    /// `--logins`, or `count` made-up ones (the lecture's four first with `--url`).
    pub fn logins(&self, count: usize) -> Vec<String> {
        const LECTURE: [&str; 4] = ["gvanrossum", "wesm", "tebeka", "torvalds"];
        match (&self.chosen_logins, &self.url) {
            (Some(chosen), _) => chosen.iter().take(count).cloned().collect(),
            (None, Some(_)) => (0..count)
                .map(|i| LECTURE.get(i).map_or_else(|| format!("user{i:04}"), |l| l.to_string()))
                .collect(),
            (None, None) => (0..count).map(|i| format!("client{i:05}")).collect(),
        }
    }

    /// Raises the open-file limit and counts the room for threads (tasks and address space);
    /// fewer connections if this machine cannot hold the ones asked for, and says so.
    pub fn fit_to_this_machine(&mut self, lesson: &Lesson) -> anyhow::Result<()> {
        if self.fitted {
            return Ok(());
        }
        self.fitted = true;
        let mut fits = self.requested as u64;
        let mut why = None;
        match system::raise_open_file_limit() {
            Ok(limit) => {
                self.limits_said.push(if limit.was_raised() {
                    format!(
                        "{} open files, one a connection (raised from {})",
                        format::count(limit.now),
                        format::count(limit.before)
                    )
                } else {
                    format!(
                        "{} open files, one a connection (hard limit {})",
                        format::count(limit.now),
                        format::count(limit.hard)
                    )
                });
                // Besides its sockets, each process keeps some files open (output, pipes, the
                // runtime's own): those open now, and a margin for the experiment's child.
                let open_now = system::open_files_now().unwrap_or(16) as u64;
                let fd_room = limit.now.saturating_sub(open_now + 16);
                if fd_room < fits {
                    fits = fd_room;
                    why = Some(format!("the open-file limit of {}", format::count(limit.now)));
                }
                lesson.figure("open_file_limit", limit);
            }
            Err(error) => self
                .limits_said
                .push(format!("open files unknown (the limit cannot be read: {error})")),
        }
        if let Some(room) = system::task_room() {
            let free = room.free(room.margin());
            // Which limit it is goes to --json (task_room), and to the warning when it binds.
            self.limits_said.push(format!("{} more threads", format::count(free)));
            if free < fits {
                fits = free;
                why = Some(format!("{} of {}", room.limited_by, format::count(room.limit)));
            }
            lesson.figure("task_room", &room);
        }
        // Each client thread reserves its whole stack in the address space when it starts.
        if let Some(room) = course::limits::threads_that_fit_in_address_space(THREAD_STACK) {
            // The allocator's per-thread arenas take their share too: keep a half for them.
            let room = room / 2;
            if room < fits {
                fits = room;
                why = course::limits::address_space()
                    .map(|(limit, _)| format!("the address-space limit (ulimit -v) of {}", format::bytes(limit)));
            }
        }
        if fits == 0 {
            anyhow::bail!(
                "no room for even one more connection here: {}",
                why.unwrap_or_else(|| "the machine's limits".to_string())
            );
        }
        if let Some(why) = why.filter(|_| fits < self.requested as u64) {
            self.fewer(lesson, fits as usize, &why);
        }
        lesson.param("connections_requested", self.requested);
        lesson.param("connections", self.connections);
        lesson.param("pitfall_connections", self.pitfall_connections);
        lesson.param("delay_ms", self.delay.as_millis() as u64);
        lesson.param("pitfall_delay_ms", self.pitfall_delay.as_millis() as u64);
        lesson.param("blocking_work_ms", self.blocking_work.as_millis() as u64);
        lesson.param("url", self.url.as_ref().map(UrlTemplate::as_str));
        Ok(())
    }

    /// Uses `fits` connections instead of the ones asked for, with a warning naming the limit.
    pub fn fewer(&mut self, lesson: &Lesson, fits: usize, why: &str) {
        lesson.warn(&format!(
            "{} connections do not fit here ({why}): using {} instead",
            format::count(self.requested as u64),
            format::count(fits as u64)
        ));
        self.connections = fits.max(1);
        self.pitfall_connections = self.pitfall_connections.min(self.connections);
        lesson.param("connections", self.connections);
        lesson.param("pitfall_connections", self.pitfall_connections);
    }
}
