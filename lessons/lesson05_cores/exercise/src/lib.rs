//! Homework for lesson 05. Complete `src/exercise.rs`, then check your work with
//! `scripts/homework.sh 05` (it runs `tests/check.rs`). Affinity is a Linux interface: the
//! exercise and its checks need Linux (or WSL).

#[cfg(not(feature = "reference"))]
mod exercise;
#[cfg(feature = "reference")]
#[path = "solution.rs"]
mod exercise;

pub use exercise::*;
