//! The lesson's sections, in the order they are shown; each measures and prints one idea.

pub mod s1_book;
pub mod s2_many_requests;
pub mod s3_moving_bytes;
pub mod s4_blocks;
pub mod s5_damage;
