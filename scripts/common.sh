# Shared by the scripts in this folder (sourced, not run): where cargo puts the binaries that
# `cargo build` makes in the dev profile, which `cargo run` uses. Asks cargo rather than
# guessing `target/`, so CARGO_TARGET_DIR or a `build.target-dir` setting is honoured.
dev_bin_dir() {
  local target
  target=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  echo "${target:-${CARGO_TARGET_DIR:-target}}/debug"
}
