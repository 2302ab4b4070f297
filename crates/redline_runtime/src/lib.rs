//! The environment spec (README, "The environment spec") and its checks, the cgroup CPU quota,
//! Go build information, `redline exec`, and structured-log validation for
//! `redline logs`.
//!
//! - [`spec`]: the environment spec, its `redline.toml` `[env]` tables, and
//!   [`spec::EnvSpec::check_value`], which the manifest rule RL705 reuses.
//! - [`cgroup`]: CPU quota from cgroup v1/v2 and the GOMAXPROCS it implies.
//! - [`buildinfo`]: the build information embedded in Go binaries.
//! - [`logs`]: streaming JSON-lines validation.
//! - [`cli`]: `redline env`, `redline exec`, `redline logs`.
//! - [`spawn`]: `redline exec --logs`, the service as a child whose log
//!   stream is validated, with signals forwarded.
//! - [`output`]: writing to a closed pipe or a full disk without a panic.

pub mod buildinfo;
pub mod cgroup;
pub mod cli;
pub mod config;
pub mod logs;
pub mod output;
pub mod spawn;
pub mod spec;
