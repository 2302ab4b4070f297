//! The README's option lines match `--help`: every `--option` the README
//! names is an option of some redline command (or of another tool the
//! README shows, listed below), every `--option a|b|c` value list is the
//! list that option's help gives, and the `--format` list of `redline
//! check` is complete.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Flags of other programs the README shows, with the program.
const FOREIGN: &[(&str, &str)] = &[
    ("locked", "cargo install / cargo build"),
    ("path", "cargo install --path"),
    ("check", "cargo fmt --check"),
    ("force-exclude", "ruff (the README compares)"),
    (
        "slo-period-windows-path",
        "sloth generate (the README compares)",
    ),
    ("test", "cargo test -p redline_rules --test rules"),
    ("release", "cargo build"),
    ("workspace", "cargo clippy / cargo test"),
    ("all-targets", "cargo clippy"),
    (
        "kube-version",
        "helm template (`kube-version` of redline.toml)",
    ),
];

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(args)
        .arg("--help")
        .env("COLUMNS", "1000")
        .env_remove("REDLINE_CACHE_DIR")
        .output()
        .expect("redline runs");
    assert!(out.status.success(), "{args:?} --help: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The subcommands a help text lists (`help` left out).
fn subcommands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("Commands:") {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with("  ") {
                break;
            }
            if let Some(name) = line.split_whitespace().next()
                && name != "help"
            {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// Every long option of every command: name → help lines (with the
/// command path).
fn all_options() -> BTreeMap<String, Vec<(String, String)>> {
    let mut options: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut stack: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = stack.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args);
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let line = *line;
            let t = line.trim_start();
            let t = t
                .strip_prefix('-')
                .filter(|r| r.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
                .and_then(|r| r.get(1..))
                .and_then(|r| r.strip_prefix(", "))
                .unwrap_or(t);
            if let Some(rest) = t.strip_prefix("--") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if !name.is_empty() {
                    // Long help lists documented values below the option:
                    // "Possible values:" then "- name: what it does".
                    let mut entry = line.to_string();
                    let below: Vec<&str> = lines[i + 1..]
                        .iter()
                        .take_while(|l| {
                            !l.trim_start().starts_with('-') || l.trim_start().starts_with("- ")
                        })
                        .copied()
                        .collect();
                    if below.iter().any(|l| l.trim() == "Possible values:") {
                        let values: Vec<&str> = below
                            .iter()
                            .filter_map(|l| l.trim_start().strip_prefix("- "))
                            .map(|v| v.split(':').next().unwrap_or(v).trim())
                            .collect();
                        entry.push_str(&format!(" [possible values: {}]", values.join(", ")));
                    }
                    options
                        .entry(name)
                        .or_default()
                        .push((path.join(" "), entry));
                }
            }
        }
        for sub in subcommands(&text) {
            let mut p = path.clone();
            p.push(sub);
            stack.push(p);
        }
    }
    options
}

/// The value list of a help line: `[possible values: a, b]`, else the
/// longest `a, b, c or d` phrase.
fn help_values(line: &str) -> BTreeSet<String> {
    if let Some(i) = line.find("[possible values: ") {
        let rest = &line[i + "[possible values: ".len()..];
        let end = rest.find(']').unwrap_or(rest.len());
        return rest[..end].split(", ").map(str::to_string).collect();
    }
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let clean = |w: &str| {
        w.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .to_string()
    };
    let mut best: BTreeSet<String> = BTreeSet::new();
    for (i, w) in words.iter().enumerate() {
        if *w != "or" || i == 0 || i + 1 >= words.len() {
            continue;
        }
        let mut set = BTreeSet::from([clean(words[i + 1]), clean(words[i - 1])]);
        let mut j = i - 1;
        while j > 0 && words[j - 1].ends_with(',') {
            j -= 1;
            set.insert(clean(words[j]));
        }
        if set.len() > best.len() {
            best = set;
        }
    }
    best
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
        .expect("README.md")
}

/// Every `--name` in the text, with its line number and what follows it.
fn mentions(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let bytes = line.as_bytes();
        let mut i = 0;
        while let Some(off) = line[i..].find("--") {
            let at = i + off;
            i = at + 2;
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'-') {
                continue;
            }
            let name: String = line[at + 2..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
                continue;
            }
            let after = line[at + 2 + name.len()..].to_string();
            out.push((no + 1, name, after));
        }
    }
    out
}

#[test]
fn every_option_the_readme_names_is_in_help() {
    let options = all_options();
    assert!(options.contains_key("new-from-rev"), "{options:?}");
    let foreign: BTreeSet<&str> = FOREIGN.iter().map(|(f, _)| *f).collect();
    let mut unknown = Vec::new();
    for (line, name, _) in mentions(&readme()) {
        if !options.contains_key(&name) && !foreign.contains(name.as_str()) {
            unknown.push(format!("README.md:{line}: --{name}"));
        }
    }
    assert!(
        unknown.is_empty(),
        "options the README names that no `redline … --help` lists:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn every_value_list_in_the_readme_is_the_help_list() {
    let options = all_options();
    let mut wrong = Vec::new();
    for (line, name, after) in mentions(&readme()) {
        // `--opt a|b|c` or `--opt=a|b`
        let Some(rest) = after.strip_prefix(' ').or_else(|| after.strip_prefix('=')) else {
            continue;
        };
        let list: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '|' || *c == '-')
            .collect();
        if !list.contains('|') {
            continue;
        }
        let want: BTreeSet<String> = list.split('|').map(str::to_string).collect();
        let Some(lines) = options.get(&name) else {
            continue;
        };
        let lists: Vec<BTreeSet<String>> = lines.iter().map(|(_, l)| help_values(l)).collect();
        // A metavar such as `<DURATION|PERCENT>` names the value's forms.
        let metavar = format!("<{list}>");
        if !lists.contains(&want) && !lines.iter().any(|(_, l)| l.contains(&metavar)) {
            wrong.push(format!(
                "README.md:{line}: --{name} {list}, but --help says {:?}",
                lines
                    .iter()
                    .map(|(c, l)| format!("{c}: {}", l.trim()))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_readme_lists_every_check_format() {
    let check = help(&["check"]);
    let line = check
        .lines()
        .find(|l| l.trim_start().starts_with("--format"))
        .expect("check --format");
    let formats = help_values(line);
    assert!(
        formats.len() >= 7 && formats.contains("sarif"),
        "{formats:?}"
    );
    let readme = readme();
    let options_line = readme
        .lines()
        .find(|l| l.starts_with("Options: `--format "))
        .expect("the README's Options line of `redline check`");
    let listed: BTreeSet<String> = options_line["Options: `--format ".len()..]
        .split('`')
        .next()
        .unwrap_or("")
        .split('|')
        .map(str::to_string)
        .collect();
    assert_eq!(
        listed, formats,
        "README's `--format` list vs `redline check --help`"
    );
}
