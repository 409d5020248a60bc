//! Section 3: graphics processors, which have many simple cores.

use crate::Params;
use crate::resources;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, _: &mut Params) -> anyhow::Result<()> {
    let gpus = resources::gpus();
    match &gpus {
        None => say!(lesson, "  Whether a GPU is present cannot be read on this platform."),
        Some(gpus) if gpus.is_empty() => say!(
            lesson,
            "  No GPU found (no /proc/driver/nvidia, no display device in /sys/class/drm)."
        ),
        Some(gpus) => {
            for gpu in gpus {
                say!(lesson, "  {} (from {})", gpu.name, gpu.source);
            }
        }
    }
    // Always recorded: the list (empty when none was found), or null when it cannot be read.
    lesson.figure("gpus", &gpus);
    lesson.notice(
        "A GPU has thousands of simple cores for data-parallel arithmetic; this course measures CPU \
         cores, which every machine has.",
    );
    Ok(())
}
