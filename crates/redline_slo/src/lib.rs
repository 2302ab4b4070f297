//! `redline slo`: SLO specs, Prometheus rule generation, error budgets from
//! a Prometheus-compatible HTTP API, the deploy gate and the HTML report.

pub mod cli {
    //! Command-line entry point for `redline slo`.
    use std::path::Path;

    #[derive(Debug, clap::Args)]
    pub struct SloArgs {}

    pub fn run(_args: &SloArgs, _config: Option<&Path>) -> u8 {
        eprintln!("redline slo: not built yet");
        2
    }
}
