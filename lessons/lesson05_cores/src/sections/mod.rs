//! The lesson's sections, in the order they are shown; each runs one phase of busy processes
//! (none in the first) and says what the cores did.

pub mod s1_at_rest;
pub mod s2_one_busy_process;
pub mod s3_one_per_core;
pub mod s4_pinned;
pub mod s5_more_than_cores;
