//! Homework for lesson 04. Complete `src/exercise.rs`, then check your work with
//! `scripts/homework.sh 04` (it runs `tests/check.rs`).

#[cfg(not(feature = "reference"))]
mod exercise;
#[cfg(feature = "reference")]
#[path = "solution.rs"]
mod exercise;

pub use exercise::*;
