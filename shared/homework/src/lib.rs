//! The homework runner's library: what an exercise's speed check (`src/bin/speed.rs`, built
//! only with the exercise's `speed` feature) needs to time the student's functions against the
//! reference's and hand the result to `cargo homework`.
//!
//! The runner itself is `src/main.rs`; the exercises it knows, their hints and what their
//! reference does differently are in `src/catalog.rs`; the reference solutions and the
//! untouched stubs that `cargo homework reset` restores are under `exercises/`.

pub mod speed;
