//! Homework for lesson 08. Complete `src/exercise.rs`, then check your work with
//! `cargo homework 08` (it runs `tests/check.rs`).

#[cfg(not(feature = "reference"))]
mod exercise;
// The reference solution, kept with the homework runner: `cargo homework 08` says where once
// your version passes. The course's own CI builds it in place of yours (`--features reference`).
#[cfg(feature = "reference")]
#[path = "../../../../shared/homework/exercises/lesson08_async/reference.rs"]
mod exercise;

pub use exercise::*;

/// The reference beside your version, for the speed verdict only (`--features speed`).
#[cfg(all(feature = "speed", not(feature = "reference")))]
#[doc(hidden)]
#[path = "../../../../shared/homework/exercises/lesson08_async/reference.rs"]
pub mod reference;
/// With both features, the reference is already the crate's own module: one copy, two names.
#[cfg(all(feature = "speed", feature = "reference"))]
#[doc(hidden)]
pub mod reference {
    pub use super::exercise::*;
}
