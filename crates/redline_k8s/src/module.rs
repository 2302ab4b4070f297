//! Facts about the Go module that a manifest deploys, for RL701: its `go`
//! version and whether it uses go.uber.org/automaxprocs.

use std::path::Path;

/// What RL701 needs to know about the scanned Go module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleFacts {
    /// The `go` directive of the nearest go.mod, e.g. `(1, 25)`.
    pub go_version: Option<(u32, u32)>,
    /// go.mod requires go.uber.org/automaxprocs. Since Go 1.17 a module's
    /// go.mod lists every module its packages import, so this is the
    /// import check without reading the module's sources a second time.
    pub imports_automaxprocs: bool,
}

const AUTOMAXPROCS: &str = "go.uber.org/automaxprocs";

impl ModuleFacts {
    /// Finds the nearest go.mod walking up from `start_dir` and reads it;
    /// no go.mod gives empty facts.
    pub fn discover(start_dir: &Path) -> ModuleFacts {
        let start = std::fs::canonicalize(start_dir).unwrap_or_else(|_| start_dir.to_path_buf());
        let Some(go_mod) = start
            .ancestors()
            .map(|d| d.join("go.mod"))
            .find(|p| p.is_file())
        else {
            return ModuleFacts::default();
        };
        let text = std::fs::read_to_string(&go_mod).unwrap_or_default();
        ModuleFacts::from_go_mod(&text)
    }

    /// Reads the `go` directive and the requirements of a go.mod text.
    pub fn from_go_mod(text: &str) -> ModuleFacts {
        let mut facts = ModuleFacts::default();
        let mut in_require = false;
        for raw in text.lines() {
            let line = raw.split("//").next().unwrap_or("").trim();
            if in_require {
                if line.starts_with(')') {
                    in_require = false;
                } else if line.split_whitespace().next() == Some(AUTOMAXPROCS) {
                    facts.imports_automaxprocs = true;
                }
                continue;
            }
            let mut words = line.split_whitespace();
            match words.next() {
                Some("go") => {
                    if let Some(v) = words.next() {
                        facts.go_version = parse_go_directive(v);
                    }
                }
                Some("require") => match words.next() {
                    Some("(") => in_require = true,
                    Some(path) if path == AUTOMAXPROCS => facts.imports_automaxprocs = true,
                    _ => {}
                },
                _ => {}
            }
        }
        facts
    }
}

/// `1.25`, `1.25.3`, `1.25rc1`, `go1.25` → (1, 25).
pub fn parse_go_directive(text: &str) -> Option<(u32, u32)> {
    let t = text.trim().trim_start_matches("go");
    let mut parts = t.splitn(2, '.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor_digits: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor_digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_mod_parsing() {
        let f = ModuleFacts::from_go_mod(
            "module x\n\ngo 1.25.1 // comment\n\nrequire (\n\tgo.uber.org/automaxprocs v1.6.0 // indirect\n)\n",
        );
        assert_eq!(f.go_version, Some((1, 25)));
        assert!(f.imports_automaxprocs);
        let f = ModuleFacts::from_go_mod(
            "module x\ngo 1.22\nrequire go.uber.org/automaxprocs v1.5.0\n",
        );
        assert_eq!(f.go_version, Some((1, 22)));
        assert!(f.imports_automaxprocs);
        let f = ModuleFacts::from_go_mod(
            "module x\ngo 1.21\n// require go.uber.org/automaxprocs v1\nrequire go.uber.org/automaxprocsx v1\n",
        );
        assert!(!f.imports_automaxprocs);
        assert_eq!(parse_go_directive("1.25rc1"), Some((1, 25)));
        assert_eq!(parse_go_directive("go1.9"), Some((1, 9)));
        assert_eq!(parse_go_directive("x"), None);
    }

    #[test]
    fn discover_walks_up_to_the_nearest_go_mod() {
        let root = std::env::temp_dir().join(format!("redline-mod-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("deploy/k8s")).unwrap();
        std::fs::write(root.join("go.mod"), "module x\n\ngo 1.23\n").unwrap();
        let f = ModuleFacts::discover(&root.join("deploy/k8s"));
        assert_eq!(f.go_version, Some((1, 23)));
        assert!(!f.imports_automaxprocs);
        std::fs::write(
            root.join("go.mod"),
            "module x\n\ngo 1.23\n\nrequire go.uber.org/automaxprocs v1.6.0\n",
        )
        .unwrap();
        assert!(ModuleFacts::discover(&root.join("deploy/k8s")).imports_automaxprocs);
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(
            ModuleFacts::discover(Path::new("/")),
            ModuleFacts::default()
        );
    }
}
