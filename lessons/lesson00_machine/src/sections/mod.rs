//! The lesson's sections, in the order they are shown; each reads and prints one resource, or
//! measures one kind of work.

pub mod s1_cores;
pub mod s2_memory_and_disk;
pub mod s3_gpu;
pub mod s4_processes;
pub mod s5_concurrency_and_parallelism;
pub mod s6_waiting;
