//! The environment spec (RULES.md) and its checks, the cgroup CPU quota,
//! `redline exec`, and structured-log validation for `redline logs`.

pub mod cli {
    //! Command-line entry points for `redline env`, `redline exec` and
    //! `redline logs`. Each returns the process exit code.
    use std::path::Path;

    #[derive(Debug, clap::Args)]
    pub struct EnvArgs {}
    #[derive(Debug, clap::Args)]
    pub struct ExecArgs {
        /// The service to start, and its arguments.
        #[arg(trailing_var_arg = true, required = true)]
        pub command: Vec<String>,
    }
    #[derive(Debug, clap::Args)]
    pub struct LogsArgs {}

    pub fn run_env(_args: &EnvArgs, _config: Option<&Path>) -> u8 {
        eprintln!("redline env: not built yet");
        2
    }
    pub fn run_exec(_args: &ExecArgs, _config: Option<&Path>) -> u8 {
        eprintln!("redline exec: not built yet");
        2
    }
    pub fn run_logs(_args: &LogsArgs, _config: Option<&Path>) -> u8 {
        eprintln!("redline logs: not built yet");
        2
    }
}
