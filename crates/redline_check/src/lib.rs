//! The check engine behind `redline check`: configuration per checked
//! file, discovery, parsing, the rules, suppressions, baselines, new-code
//! gating, fixes and the result cache. It prints nothing: what a run has
//! to say goes to its [`Listener`], what it found comes back as data
//! ([`session::Ran`]); the binary parses arguments, prints and chooses the
//! exit code.
//!
//! ```text
//! Request ─► Session::open (redline.toml per file, read once)
//!         ─► check::run_with / run_stdin: discover ─► render charts/overlays
//!              ─► parse ─► package model ─► rules ─► finish_file
//!                 (select/ignore, severity, suppressions, order)
//!         ─► gate: new code since a revision, then the baseline
//!         ─► fixes (planned from what the gate lets through, re-checked until stable)
//!         ─► Ran (findings, diff, fixed source or baseline written) ─► the binary prints
//! ```

pub mod baseline;
pub mod cache;
pub mod check;
pub mod config;
pub mod fix;
pub mod newcode;
pub mod rendered;
pub mod safe_write;
pub mod session;
pub mod suppress;

/// What a run tells its caller while it runs: how far the scan is (for a
/// progress bar) and the lines meant for the user (warnings, notes), in
/// the order they arise. Every method does nothing by default.
pub trait Listener: Sync {
    /// `n` more files were found to check.
    fn add_total(&self, _n: usize) {}
    /// `n` more files were checked.
    fn add_done(&self, _n: usize) {}
    /// The scan is over (before fixes are shown or reports written).
    fn scan_finished(&self) {}
    /// A line for the user, e.g. `redline: warning: …`.
    fn note(&self, _line: &str) {}
}

/// A listener that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Listener for Silent {}
