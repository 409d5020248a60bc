//! Section 3 (on this machine): start the workers, run the plain map/reduce once, and show who
//! listened where and where the time went.

use super::{first_outcome, gathered_by_zero, show_phases, show_processes};
use crate::Params;
use crate::map_reduce::Shuffle;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    say!(
        lesson,
        "  Starting {} copies of this program as worker processes (`lesson11_distributed --worker I`, \
         by `run_local` in src/cluster.rs):",
        p.processes
    );
    let run = p.run_here(p.processes, Shuffle::EveryWord)?;
    show_processes(lesson, &gathered_by_zero(first_outcome(&run.outcomes)?)?.reports);
    say!(lesson);
    say!(
        lesson,
        "  Timely's cluster mode needs every process's address before any connection is made: \
         process I dials every lower-numbered process and accepts every higher one."
    );
    lesson.reveal(
        "Why not simply give every worker port 7000?",
        "Another program may hold it, and two workers on one machine cannot both listen on it. Each \
         worker bound port 0 (the OS picks a free port) and kept the socket until everyone had \
         connected: nobody could take the port in between, and no port listens after the start.",
    )?;
    say!(lesson);
    show_phases(lesson, &run);
    p.plain_run = Some(run);
    lesson.notice(
        "Every process had to know every address before the dataflow could start: each worker \
         chose its own free port and the parent passed the list around.",
    );
    Ok(())
}
