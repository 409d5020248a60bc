//! The lesson's sections, in the order they are shown; each measures and prints one idea.

pub mod s1_many_clients;
pub mod s2_poll_loop;
pub mod s3_pitfall;
pub mod s4_shutting_down;
