//! Homework for lesson 05. Complete `src/exercise.rs`, then check your work with
//! `cargo homework 05` (it runs `tests/check.rs`). Affinity is a Linux interface: the
//! exercise and its checks need Linux (or WSL).

#[cfg(not(feature = "reference"))]
mod exercise;
// The reference solution, kept with the homework runner: `cargo homework 05` says where once
// your version passes. The course's own CI builds it in place of yours (`--features reference`).
#[cfg(feature = "reference")]
#[path = "../../../../shared/homework/exercises/lesson05_cores/reference.rs"]
mod exercise;

pub use exercise::*;
