//! The lesson's sections, in the order they are shown; each measures and prints one idea.

pub mod s1_one_then_a_pool;
pub mod s2_profiling;
pub mod s3_computing;
pub mod s4_failures;
pub mod s5_shutting_down;
