//! Records which profile and optimization level the course was built with, so that every
//! lesson's header can say so and warn when timings would not be representative.

fn main() {
    for (key, name) in [("PROFILE", "COURSE_BUILD_PROFILE"), ("OPT_LEVEL", "COURSE_OPT_LEVEL")] {
        let value = std::env::var(key).unwrap_or_else(|_| "unknown".to_string());
        println!("cargo:rustc-env={name}={value}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
