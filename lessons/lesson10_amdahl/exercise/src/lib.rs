//! Homework for lesson 10. Complete `src/exercise.rs`, then check your work with
//! `scripts/homework.sh 10` (it runs `tests/check.rs`).

#[cfg(not(feature = "reference"))]
mod exercise;
#[cfg(feature = "reference")]
#[path = "solution.rs"]
mod exercise;

pub use exercise::*;
