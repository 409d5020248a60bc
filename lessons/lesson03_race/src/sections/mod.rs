//! The lesson's sections, in the order they are shown; each measures and prints one idea.

pub mod s1_lost_updates;
pub mod s2_many_runs;
pub mod s3_one_interleaving;
pub mod s4_between_processes;
pub mod s5_three_fixes;
pub mod s6_false_sharing;
