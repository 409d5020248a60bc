//! The lesson's sections, in the order they are shown; each measures and prints one idea.

pub mod s1_spawn_and_join;
pub mod s2_interleaving;
pub mod s3_returning_results;
pub mod s4_thread_costs;
pub mod s5_tiny_jobs;
