//! `redline slo` without the rest of redline, for trying the crate alone:
//! `cargo run -p redline_slo --example slo -- validate slo.yaml`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "redline-slo")]
struct Cli {
    #[command(flatten)]
    args: redline_slo::cli::SloArgs,
    /// A redline.toml to read the [slo] table from.
    #[arg(long, global = true)]
    config: Option<std::path::PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    std::process::exit(i32::from(redline_slo::cli::run(
        &cli.args,
        cli.config.as_deref(),
    )));
}
