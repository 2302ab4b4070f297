//! The check engine in process: fixes until stable, baselines, new-code
//! gating, the cache and standard input, each on a temporary tree (the
//! binary's tests check the same through the process).

use redline_check::Listener;
use redline_check::session::{ConfigSource, FixMode, Ran, Request, Session, Since};
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// Three safe RL101 fixes (`new(map…)`) and one RL401 (`log`) without a fix.
const SRC: &str = "package p\n\nimport \"log\"\n\ntype Index map[string]int\n\nfunc f() {\n\tm := new(map[string]int)\n\tn := new((Index))\n\tlog.Println(m, n, new(map[string][]int))\n}\n";

/// The notes a run wrote, in order.
#[derive(Default)]
struct Notes(Mutex<Vec<String>>);

impl Listener for Notes {
    fn note(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_string());
    }
}

impl Notes {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // A repository root: the search for redline.toml stops here.
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write(dir.path(), "p/a.go", SRC);
    dir
}

/// A request for the tree `dir` (paths are read as given, so absolute:
/// the test process runs elsewhere; findings show them relative to the
/// session's working directory, `dir`).
fn request_in(dir: &Path) -> Request {
    Request {
        paths: vec![dir.to_path_buf()],
        config: ConfigSource::Discover,
        ..Request::default()
    }
}

fn run(dir: &Path, request: Request) -> (Ran, Notes) {
    let notes = Notes::default();
    let ran = Session::open(request, dir)
        .and_then(|s| s.run(None, &notes))
        .unwrap_or_else(|e| panic!("run failed: {e}"));
    (ran, notes)
}

/// (path, line, rule) of every finding a run reports.
fn findings(ran: &Ran) -> Vec<(String, usize, &'static str)> {
    match ran {
        Ran::Report { outcome, .. } => outcome
            .diagnostics
            .iter()
            .map(|d| (d.path.clone(), d.span.line, d.rule.id))
            .collect(),
        other => panic!("expected findings, got {other:?}"),
    }
}

fn rules(ran: &Ran) -> Vec<&'static str> {
    findings(ran).into_iter().map(|f| f.2).collect()
}

#[test]
fn fix_applies_until_nothing_more_applies_and_reports_what_remains() {
    let dir = tree();
    let d = dir.path();
    let (ran, notes) = run(
        dir.path(),
        Request {
            fix: FixMode::Apply { read_only: false },
            ..request_in(d)
        },
    );
    assert_eq!(rules(&ran), vec!["RL401"]);
    assert!(matches!(ran, Ran::Report { fails: true, .. }));
    assert!(
        notes
            .lines()
            .contains(&"redline: fixed 3 findings; 1 remains".to_string()),
        "{:?}",
        notes.lines()
    );
    let fixed = std::fs::read_to_string(dir.path().join("p/a.go")).unwrap();
    assert_eq!(
        fixed,
        SRC.replace("new(map[string]int)", "&map[string]int{}")
            .replace("new((Index))", "&Index{}")
            .replace("new(map[string][]int)", "&map[string][]int{}")
    );
    // Stable: a second run has nothing left to fix.
    let (ran, notes) = run(
        dir.path(),
        Request {
            fix: FixMode::Apply { read_only: false },
            ..request_in(d)
        },
    );
    assert_eq!(rules(&ran), vec!["RL401"]);
    assert!(
        notes
            .lines()
            .contains(&"redline: fixed 0 findings; 1 remains".to_string())
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("p/a.go")).unwrap(),
        fixed
    );
}

#[test]
fn diff_plans_the_fixes_without_writing() {
    let dir = tree();
    let d = dir.path();
    let (ran, _) = run(
        dir.path(),
        Request {
            fix: FixMode::Diff,
            ..request_in(d)
        },
    );
    let Ran::Diff {
        diff,
        fixes,
        files,
        skipped,
    } = ran
    else {
        panic!("expected a diff, got {ran:?}");
    };
    assert_eq!((fixes, files, skipped), (3, 1, 0));
    assert!(diff.starts_with("--- a/p/a.go\n+++ b/p/a.go\n"), "{diff}");
    assert!(diff.contains("+\tm := &map[string]int{}\n"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("p/a.go")).unwrap(),
        SRC
    );
}

#[test]
fn a_baseline_hides_the_findings_it_recorded_and_no_new_one() {
    let dir = tree();
    let d = dir.path();
    let file = d.join("baseline.json");
    let (ran, _) = run(
        d,
        Request {
            write_baseline: Some(file.clone()),
            ..request_in(d)
        },
    );
    assert!(
        matches!(ran, Ran::BaselineWritten { count: 4, .. }),
        "{ran:?}"
    );
    let with_baseline = || Request {
        baseline: Some(file.clone()),
        ..request_in(d)
    };
    let (ran, notes) = run(d, with_baseline());
    assert_eq!(findings(&ran), vec![]);
    assert!(matches!(ran, Ran::Report { fails: false, .. }));
    assert!(
        notes
            .lines()
            .contains(&"redline: 4 findings hidden by the baseline".to_string()),
        "{:?}",
        notes.lines()
    );
    // Lines moved above the old findings: still hidden; a new one is not.
    write(
        d,
        "p/a.go",
        &SRC.replace("func f() {", "var fresh = new(map[int]int)\n\nfunc f() {"),
    );
    let (ran, _) = run(d, with_baseline());
    assert_eq!(findings(&ran), vec![("p/a.go".to_string(), 7, "RL101")]);
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs (new-code gating needs git)");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository whose one commit has [`SRC`] (four findings), and whose
/// working tree adds one finding above them (the old ones move down two
/// lines; the new one is on line 7).
fn legacy_repo_with_one_new_finding() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q"]);
    write(d, "p/a.go", SRC);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "legacy"]);
    write(
        d,
        "p/a.go",
        &SRC.replace("func f() {", "var fresh = new(map[int]int)\n\nfunc f() {"),
    );
    dir
}

#[test]
fn new_code_gating_reports_only_what_the_base_did_not_have() {
    let dir = legacy_repo_with_one_new_finding();
    let d = dir.path();
    let (ran, notes) = run(
        d,
        Request {
            new_code: Some(Since::Rev("HEAD".into())),
            ..request_in(d)
        },
    );
    assert_eq!(findings(&ran), vec![("p/a.go".to_string(), 7, "RL101")]);
    let compared = notes.lines();
    assert!(
        compared
            .iter()
            .any(|n| n.starts_with("redline: compared with ")
                && n.ends_with("(4 findings there): reporting only new findings")),
        "{compared:?}"
    );
    // By changed lines instead: the same one line is new.
    let (ran, _) = run(
        d,
        Request {
            new_code: Some(Since::Rev("HEAD".into())),
            new_lines_only: true,
            ..request_in(d)
        },
    );
    assert_eq!(findings(&ran), vec![("p/a.go".to_string(), 7, "RL101")]);
    // A revision that does not exist is an error before any scan.
    let err = Session::open(
        Request {
            new_code: Some(Since::Rev("no-such-rev".into())),
            ..request_in(d)
        },
        d,
    )
    .and_then(|s| s.run(None, &Notes::default()))
    .unwrap_err();
    assert!(err.contains("no-such-rev"), "{err}");
}

/// The "compared with" note of a new-code run.
fn compared_note(notes: &Notes) -> String {
    let lines = notes.lines();
    lines
        .iter()
        .find(|l| l.starts_with("redline: compared with "))
        .cloned()
        .unwrap_or_else(|| panic!("no comparison note in {lines:?}"))
}

#[test]
fn the_base_revisions_findings_are_cached_by_commit_and_renames_apply_after() {
    let dir = legacy_repo_with_one_new_finding();
    let d = dir.path();
    let cache = tempfile::tempdir().unwrap();
    let gated = |rev: &str| Request {
        new_code: Some(Since::Rev(rev.into())),
        cache_dir: Some(cache.path().to_path_buf()),
        ..request_in(d)
    };
    let (first, notes) = run(d, gated("HEAD"));
    assert!(
        compared_note(&notes).ends_with("(4 findings there): reporting only new findings"),
        "{:?}",
        notes.lines()
    );
    assert_eq!(findings(&first), vec![("p/a.go".to_string(), 7, "RL101")]);
    // The same base again: from the cache, the same answer.
    let (second, notes) = run(d, gated("HEAD"));
    assert!(
        compared_note(&notes)
            .ends_with("(4 findings there, from the cache): reporting only new findings"),
        "{:?}",
        notes.lines()
    );
    assert_eq!(findings(&second), findings(&first));
    // The working tree moves on (a second new finding, the file renamed):
    // the cached base still answers, with the rename applied to it, so the
    // old findings stay old and both new ones are new.
    let text = std::fs::read_to_string(d.join("p/a.go")).unwrap();
    std::fs::remove_file(d.join("p/a.go")).unwrap();
    write(
        d,
        "p/renamed.go",
        &format!("{text}\nvar again = new(map[int]string)\n"),
    );
    git(d, &["add", "-A"]);
    let (third, notes) = run(d, gated("HEAD"));
    assert!(
        compared_note(&notes).contains("from the cache"),
        "{:?}",
        notes.lines()
    );
    assert_eq!(
        findings(&third),
        vec![
            ("p/renamed.go".to_string(), 7, "RL101"),
            ("p/renamed.go".to_string(), 15, "RL101")
        ]
    );
    // Another base commit is checked out and checked, not served.
    git(d, &["commit", "-q", "-m", "rename"]);
    let (fourth, notes) = run(d, gated("HEAD"));
    assert!(
        !compared_note(&notes).contains("from the cache"),
        "{:?}",
        notes.lines()
    );
    assert!(findings(&fourth).is_empty());
    // A corrupt entry is a miss, never an error or a wrong answer.
    for entry in walk_files(&cache.path().join("v2/base")) {
        std::fs::write(&entry, b"RLCACHE2 garbage").unwrap();
    }
    let (fifth, notes) = run(d, gated("HEAD~1"));
    assert!(
        !compared_note(&notes).contains("from the cache"),
        "{:?}",
        notes.lines()
    );
    assert_eq!(findings(&fifth), findings(&third));
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `(hits, misses)` from the cache note of a run.
fn cache_counts(notes: &Notes) -> (usize, usize) {
    let lines = notes.lines();
    let line = lines
        .iter()
        .find(|l| l.starts_with("redline: cache "))
        .unwrap_or_else(|| panic!("no cache note in {lines:?}"));
    let counts = line.rsplit(": ").next().unwrap();
    let mut numbers = counts
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse::<usize>().unwrap());
    (numbers.next().unwrap(), numbers.next().unwrap())
}

#[test]
fn the_cache_serves_unchanged_directories_and_rechecks_changed_ones() {
    let dir = tree();
    let d = dir.path();
    write(d, "q/b.go", "package q\n\nvar m = new(map[int]int)\n");
    let cache = tempfile::tempdir().unwrap();
    let cached = || Request {
        cache_dir: Some(cache.path().to_path_buf()),
        cache_stats: true,
        ..request_in(d)
    };
    let (first, notes) = run(d, cached());
    assert_eq!(cache_counts(&notes), (0, 2));
    let (second, notes) = run(d, cached());
    assert_eq!(cache_counts(&notes), (2, 0));
    assert_eq!(findings(&first), findings(&second));
    assert_eq!(findings(&first).len(), 5);
    // An edit to one package: only that directory is checked again.
    write(d, "q/b.go", "package q\n\nvar m = map[int]int{}\n");
    let (third, notes) = run(d, cached());
    assert_eq!(cache_counts(&notes), (1, 1));
    assert_eq!(findings(&third).len(), 4);
    // Without a cache directory nothing is cached or noted.
    let (_, notes) = run(
        d,
        Request {
            cache_stats: true,
            ..request_in(d)
        },
    );
    assert!(notes.lines().iter().all(|l| !l.contains("cache")));
}

#[test]
fn standard_input_is_finished_like_the_file_on_disk() {
    let dir = tree();
    let d = dir.path();
    // A suppression, a severity override and an ignored rule: the same
    // finish step for standard input as for the file on disk.
    let src = SRC.replace(
        "\tn := new((Index))",
        "\tn := new((Index)) //redline:ignore RL101 -- reviewed",
    );
    write(d, "p/a.go", &src);
    write(d, "redline.toml", "[severity]\nRL101 = \"info\"\n");
    let (on_disk, _) = run(
        d,
        Request {
            paths: vec![d.join("p/a.go")],
            ..request_in(d)
        },
    );
    let notes = Notes::default();
    let ran = Session::open(
        Request {
            paths: vec!["-".into()],
            stdin_filename: Some(d.join("p/a.go")),
            ..request_in(d)
        },
        d,
    )
    .and_then(|s| s.run(Some(&mut src.as_bytes()), &notes))
    .unwrap();
    assert_eq!(findings(&ran), findings(&on_disk));
    // The suppression on line 9 covers its own line and the next one (a
    // comment may stand on the line above the finding).
    assert_eq!(rules(&ran), vec!["RL101", "RL401"]);
    let Ran::Report { outcome, .. } = &ran else {
        unreachable!()
    };
    assert!(
        outcome.diagnostics[0].severity == redline_diagnostics::Severity::Info,
        "the override applies"
    );
}

#[test]
fn the_parse_cache_serves_unchanged_files_and_parses_changed_ones_again() {
    use redline_check::check::{ParseCache, run_stdin, run_stdin_with};
    use redline_check::config::{Config, Configs, Overrides};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "p/a.go", SRC);
    write(
        d,
        "p/b.go",
        "package p\n\nvar other = new(map[string]int)\n",
    );
    let configs = Configs::fixed(Config::default(), Overrides::default(), d);
    let a = d.join("p/a.go");
    let cache = ParseCache::default();
    let lines = |o: &redline_check::check::Outcome| -> Vec<(String, usize, &'static str)> {
        o.diagnostics
            .iter()
            .map(|x| (x.path.clone(), x.span.line, x.rule.id))
            .collect()
    };
    let edit = |text: &str| {
        run_stdin_with(&a, text.as_bytes().to_vec(), &configs, d, Some(&cache)).unwrap()
    };
    let plain = |text: &str| run_stdin(&a, text.as_bytes().to_vec(), &configs, d).unwrap();

    edit(SRC);
    assert_eq!(cache.hits(), 0);
    // The buffer changes: it is parsed again, its unchanged sibling is not,
    // and the findings are those of an uncached check.
    let edited = SRC.replace("func f() {", "var fresh = new(map[int]int)\n\nfunc f() {");
    let second = edit(&edited);
    assert_eq!(cache.hits(), 1);
    assert_eq!(lines(&second), lines(&plain(&edited)));
    assert_eq!(lines(&second).len(), 5);
    // Nothing changed: both served.
    edit(&edited);
    assert_eq!(cache.hits(), 3);
    // The sibling changes on disk: parsed again.
    write(d, "p/b.go", "package p\n\nvar other = map[string]int{}\n");
    let fourth = edit(&edited);
    assert_eq!(cache.hits(), 4);
    assert_eq!(lines(&fourth), lines(&plain(&edited)));
}
