//! Rules the driver itself reports: files that do not parse and
//! suppressions that do not hold. Their metadata lives in
//! `redline_diagnostics::rule`, below the loaders that report RL000.

pub use redline_diagnostics::rule::{InvalidSuppression, ParseError};
