//! The check engine behind `redline check`: configuration per checked
//! file, discovery, parsing, the rules, suppressions, baselines, new-code
//! gating, fixes and the result cache. It prints nothing; the binary
//! parses arguments, prints and chooses the exit code.

/// A line for standard error, written without panicking (this macro goes
/// away once the engine hands its notes to the caller).
macro_rules! errln {
    ($($arg:tt)*) => {{
        let _ = ::std::io::Write::write_fmt(
            &mut ::std::io::stderr(),
            format_args!("{}\n", format_args!($($arg)*)),
        );
    }};
}

pub mod baseline;
pub mod cache;
pub mod check;
pub mod config;
pub mod fix;
pub mod newcode;
pub mod rendered;
pub mod safe_write;
pub mod suppress;

/// Counts of files a scan has found and finished, for a progress bar.
pub trait Progress: Sync {
    fn add_total(&self, n: usize);
    fn add_done(&self, n: usize);
}
