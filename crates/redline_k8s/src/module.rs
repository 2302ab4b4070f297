//! Facts about the Go module that a manifest deploys, for RL701: its `go`
//! version and whether it uses go.uber.org/automaxprocs.

use redline_go::GoVersion;
use std::path::Path;

/// What RL701 needs to know about the scanned Go module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleFacts {
    /// The `go` directive of the nearest go.mod, e.g. 1.25.
    pub go_version: Option<GoVersion>,
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

    /// The `go` directive and the requirements of a go.mod text, read by
    /// the one go.mod reader (a line it cannot read is skipped here;
    /// `redline check` reports it on the go.mod itself).
    pub fn from_go_mod(text: &str) -> ModuleFacts {
        let (m, _errors) = redline_go::read_go_mod(text);
        ModuleFacts {
            go_version: m.go_version,
            imports_automaxprocs: m.requires(AUTOMAXPROCS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_mod_parsing() {
        let f = ModuleFacts::from_go_mod(
            "module x\n\ngo 1.25.1 // comment\n\nrequire (\n\tgo.uber.org/automaxprocs v1.6.0 // indirect\n)\n",
        );
        assert_eq!(f.go_version, Some(GoVersion::new(1, 25)));
        assert!(f.imports_automaxprocs);
        let f = ModuleFacts::from_go_mod(
            "module x\ngo 1.22\nrequire go.uber.org/automaxprocs v1.5.0\n",
        );
        assert_eq!(f.go_version, Some(GoVersion::new(1, 22)));
        assert!(f.imports_automaxprocs);
        let f = ModuleFacts::from_go_mod(
            "module x\ngo 1.21\n// require go.uber.org/automaxprocs v1\nrequire go.uber.org/automaxprocsx v1\n",
        );
        assert!(!f.imports_automaxprocs);
        // A quoted path and a directive this reader does not know.
        let f = ModuleFacts::from_go_mod(
            "module x\ngo 1.24rc1\nfuture x\nrequire (\n\t\"go.uber.org/automaxprocs\" v1.6.0\n)\n",
        );
        assert_eq!(f.go_version, Some(GoVersion::new(1, 24)));
        assert!(f.imports_automaxprocs);
    }

    #[test]
    fn discover_walks_up_to_the_nearest_go_mod() {
        let root = std::env::temp_dir().join(format!("redline-mod-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("deploy/k8s")).unwrap();
        std::fs::write(root.join("go.mod"), "module x\n\ngo 1.23\n").unwrap();
        let f = ModuleFacts::discover(&root.join("deploy/k8s"));
        assert_eq!(f.go_version, Some(GoVersion::new(1, 23)));
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
