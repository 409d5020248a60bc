//! No code: this crate only names third-party crates with the union of the features that the
//! workspace's members build them with (see its `Cargo.toml`). Every member depends on it, so
//! `cargo run -p lessonNN` after the whole course was built finds every dependency already
//! compiled.
//! Regenerate it with `cargo hakari generate` after changing a dependency.
