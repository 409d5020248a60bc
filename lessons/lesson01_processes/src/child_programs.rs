//! What the lesson's children run, told what to do by their parent through `link.rs`: the
//! watched child of section 3, which computes, blocks, sleeps and exits on command, and the
//! child of section 5, which reads and then writes the data it shares with its parent.

use crate::link::ChildEnd;
use crate::processes;
use std::time::Duration;

/// Commands to the watched child of section 3.
pub const BLOCK: u8 = b'b';
pub const RESUME: u8 = b'r';
pub const DELAY: u8 = b'd';
pub const EXIT: u8 = b'x';
/// What the watched child exits with.
pub const WATCHED_EXIT_CODE: i32 = 3;

/// Commands to the copy-on-write child of section 5 (and its reply that it is ready).
pub const READ: u8 = b'r';
pub const WRITE: u8 = b'w';
pub const READY: u8 = b'!';

/// The watched child of section 3: computes until told otherwise, then blocks on the pipe,
/// sleeps on a timer or exits, as the parent commands.
pub fn watched_child(end: &ChildEnd, delay: Duration) -> i32 {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    loop {
        // Executing: compute, and look at the pipe between rounds without waiting on it.
        let command = loop {
            x = busy_round(x);
            if let Some(command) = end.try_command() {
                break command;
            }
        };
        match command {
            // Blocked: read() on an empty pipe puts the process to sleep until data arrives.
            Some(BLOCK) => {
                if end.next_command().is_none() {
                    return 1;
                }
            }
            // Delayed: asleep on a timer.
            Some(DELAY) => std::thread::sleep(delay),
            Some(EXIT) => {
                std::hint::black_box(x);
                return WATCHED_EXIT_CODE;
            }
            // The parent has gone (end of file) or sent nonsense.
            _ => return 1,
        }
    }
}

/// About a millisecond of arithmetic that the compiler cannot skip.
fn busy_round(mut x: u64) -> u64 {
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x)
}

/// The copy-on-write child of section 5: reads its (shared) data, then writes part of it.
pub fn copy_on_write_child(end: &ChildEnd, data: &mut [u8], written: usize) -> i32 {
    end.reply(READY);
    loop {
        match end.next_command() {
            Some(READ) => end.reply_line(&processes::checksum(data).to_string()),
            Some(WRITE) => {
                processes::write_part(data, written);
                end.reply(READY);
            }
            Some(EXIT) => return 0,
            _ => return 1,
        }
    }
}
