//! Lesson 10's concept as a library: [`amdahl`] holds Amdahl's law, its inverses, Gustafson's
//! law and the measured job, so that the lesson, its quiz and its tests use the same functions.

pub mod amdahl;
