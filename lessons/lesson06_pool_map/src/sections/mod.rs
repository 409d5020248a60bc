//! The lesson's sections, in the order they are shown; each measures and prints one idea.

pub mod s1_word_count;
pub mod s2_problem_size;
pub mod s3_count_prime;
pub mod s4_load_imbalance;
pub mod s5_what_map_means;
