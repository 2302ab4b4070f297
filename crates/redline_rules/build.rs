//! Generates one test per rule (tests/rules.rs includes it): the ids and
//! names of the `declare_rule!` blocks under src/, so a new rule gets its
//! test without touching a list.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The string value of `key: "..."` on a line.
fn value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.trim()
        .strip_prefix(key)?
        .trim()
        .strip_prefix('"')?
        .split('"')
        .next()
}

fn main() {
    println!("cargo::rerun-if-changed=src");
    let mut files = Vec::new();
    walk(Path::new("src"), &mut files);
    files.sort();
    let mut rules: Vec<(String, String)> = Vec::new();
    for f in &files {
        println!("cargo::rerun-if-changed={}", f.display());
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let mut in_decl = false;
        let mut id = None;
        for line in text.lines() {
            if line.trim_start().starts_with("declare_rule! {") {
                in_decl = true;
                id = None;
            } else if in_decl && let Some(v) = value(line, "id:") {
                id = Some(v.to_string());
            } else if in_decl && let Some(v) = value(line, "name:") {
                if let Some(id) = id.take() {
                    rules.push((id, v.replace('-', "_")));
                }
                in_decl = false;
            }
        }
    }
    rules.sort();
    let mut out =
        String::from("/// The rules build.rs generated a test for.\nconst GENERATED: &[&str] = &[");
    for (id, _) in &rules {
        out.push_str(&format!("\"{id}\", "));
    }
    out.push_str("];\n");
    for (id, name) in &rules {
        out.push_str(&format!(
            "#[test]\n#[allow(non_snake_case)]\nfn {id}_{name}() {{\n    check_rule(\"{id}\");\n}}\n"
        ));
    }
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("rule_tests.rs");
    std::fs::write(dest, out).expect("write rule_tests.rs");
}
