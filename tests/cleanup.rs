//! Nothing is left behind: no child process (zombie, orphan or stopped), no temporary file,
//! also when a lesson is interrupted with Ctrl-C at any moment.

use crate::support::{binary, for_every_lesson};
use std::time::Duration;
use testkit::{Interrupt, Run};

#[test]
fn every_lesson_leaves_nothing_behind_when_interrupted() {
    for_every_lesson(|lesson| {
        // Early (setting up), in the middle, and late; alone and as the terminal does it.
        let moments = [
            (50, Interrupt::Group),
            (300, Interrupt::Process),
            (700, Interrupt::Group),
            (1500, Interrupt::Process),
        ];
        for (millis, how) in moments {
            let outcome = Run::new(binary(lesson))
                .args(["--quick"])
                .interrupt_after(Duration::from_millis(millis), how)
                .timeout(Duration::from_secs(60))
                .go();
            outcome.assert_clean();
            assert!(
                !outcome.timed_out,
                "the lesson did not stop after SIGINT\n{}",
                outcome.describe()
            );
            // It either finished first (0) or died of the interrupt (SIGINT, or exit 130).
            let interrupted = outcome.signal() == Some(2) || outcome.code() == Some(130);
            assert!(
                outcome.code() == Some(0) || interrupted,
                "unexpected end after SIGINT at {millis} ms ({how:?})\n{}",
                outcome.describe()
            );
        }
    });
}
