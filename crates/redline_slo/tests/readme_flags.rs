//! The README shows the young-data and deploy-tracing flags of `status`
//! and `report` as `--help` prints them: a renamed flag or a reworded help
//! line fails here until the README says the same.

use clap::{CommandFactory, Parser};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: redline_slo::cli::SloArgs,
}

#[test]
fn readme_shows_the_flags_as_help_prints_them() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md at the workspace root");
    let mut cmd = Cli::command();
    for (sub, flags) in [
        (
            "status",
            &[
                "min-coverage",
                "allow-no-traffic",
                "events",
                "events-from-git",
                "repo",
            ][..],
        ),
        (
            "report",
            &["events", "events-from-git", "repo", "allow-no-traffic"][..],
        ),
    ] {
        let sub = cmd
            .find_subcommand_mut(sub)
            .unwrap_or_else(|| panic!("no subcommand {sub}"));
        for flag in flags {
            let arg = sub
                .get_arguments()
                .find(|a| a.get_long() == Some(flag))
                .unwrap_or_else(|| panic!("no --{flag}"));
            let optional = arg.get_num_args().is_some_and(|n| n.min_values() == 0);
            let name = match (arg.get_action().takes_values(), arg.get_value_names()) {
                (true, Some(v)) if optional => format!("--{flag}[=<{}>]", v[0]),
                (true, Some(v)) => format!("--{flag} <{}>", v[0]),
                _ => format!("--{flag}"),
            };
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let block = format!("      {name}\n          {help}\n");
            assert!(
                readme.contains(&block),
                "README.md lacks, as `--help` prints it:\n{block}"
            );
        }
    }
}
