//! `redline.toml` is read once, whole, by every command that reads it: an
//! unknown key in any of its tables is reported by `check`, `env`, `exec`,
//! `logs` and `slo` alike, once, as `redline.toml:LINE:COL:` with the key
//! named, and the command stops (exit 2; `exec`: 78, the service is not
//! started).

mod common;
use common::{configured as run, write};

/// One misspelt key per table, always on line 4, column 3.
const BAD_KEYS: &[(&str, &str)] = &[
    ("", "selekt"),
    ("[env]", "my-var"),
    ("[env.PORT]", "requird"),
    ("[env.PORT]", "min_length"),
    ("[logs]", "level-feild"),
    ("[manifests]", "required-envs"),
    ("[slo]", "windw"),
    ("[helm]", "binery"),
    ("[[helm.charts]]", "valuse"),
    ("[kustomize]", "binery"),
    ("[rules]", "std-logs"),
    ("[rules.std-log]", "banned"),
];

#[test]
fn a_bad_key_in_any_table_is_reported_once_by_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir(root.join(".git")).expect("mkdir .git");
    // Several directories and kinds of input, each looking its
    // configuration up: still one error.
    write(root, "main.go", "package main\n\nfunc main() {}\n");
    write(root, "pkg/a/a.go", "package a\n");
    write(root, "pkg/b/b.go", "package b\n");
    write(
        root,
        "deploy/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: api\n      image: x\n",
    );
    write(root, "app.log", "{}\n");
    write(root, "slo.yaml", "version: prometheus/v1\n");
    let commands: &[(&[&str], i32)] = &[
        (&["check", "."], 2),
        (&["env"], 2),
        (&["exec", "--", "true"], 78),
        (&["logs", "app.log"], 2),
        (&["slo", "validate", "slo.yaml"], 2),
    ];
    for (header, key) in BAD_KEYS {
        write(
            root,
            "redline.toml",
            &format!("# the key on line 4\n\n{header}\n  {key} = 1\n"),
        );
        for (args, code) in commands {
            let out = run(root, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let what = format!("`redline {}` with `{key}` in `{header}`", args.join(" "));
            assert_eq!(out.status.code(), Some(*code), "{what}: {stderr}");
            assert_eq!(
                stderr.matches("redline.toml:4:3: ").count(),
                1,
                "{what}: {stderr}"
            );
            assert!(stderr.contains(&format!("`{key}`")), "{what}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
        }
    }
}

/// A value the owning part checks (here `[slo] fail-below`, `[env.X]
/// pattern` and `[manifests] required-env`) is reported with its position
/// by every command that reads that table, `check` included.
#[test]
fn a_bad_value_is_reported_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir(root.join(".git")).expect("mkdir .git");
    write(
        root,
        "deploy.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: api\n      image: x\n",
    );
    write(root, "slo.yaml", "version: prometheus/v1\n");
    for (table, at, commands) in [
        (
            "[slo]\nspecs = [\"slo.yaml\"]\n  fail-below = nan\n",
            "redline.toml:3:3: ",
            &[&["check", "."][..], &["slo", "validate", "slo.yaml"]][..],
        ),
        (
            "[env.PORT]\n\n  pattern = \"(\"\n",
            "redline.toml:3:13: ",
            &[&["check", "."][..], &["env"]][..],
        ),
        (
            "[manifests]\nrequired-env = [\"a-b\"]\n",
            "redline.toml:2:17: ",
            &[&["check", "."][..]][..],
        ),
    ] {
        write(root, "redline.toml", table);
        for args in commands {
            let out = run(root, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} {table}: {stderr}");
            assert_eq!(stderr.matches(at).count(), 1, "{args:?} {table}: {stderr}");
        }
    }
}
