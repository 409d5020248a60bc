//! Homework for lesson 11. Complete `src/exercise.rs`, then check your work with
//! `scripts/homework.sh 11` (it runs `tests/check.rs`).

#[cfg(not(feature = "reference"))]
mod exercise;
#[cfg(feature = "reference")]
#[path = "solution.rs"]
mod exercise;

pub use exercise::*;
