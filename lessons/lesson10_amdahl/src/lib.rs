//! The formulas behind lesson 10, as a library: [`amdahl`] holds Amdahl's law, its inverse,
//! the Karp–Flatt metric, a fit of the parallel fraction and Gustafson's law, so that tests and
//! later material (a quiz) use exactly the functions the lesson prints.

pub mod amdahl;
