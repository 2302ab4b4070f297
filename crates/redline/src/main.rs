//! The `redline` binary: CLI, configuration discovery, dispatch, exit codes.
fn main() {}
