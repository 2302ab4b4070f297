//! Rules the driver itself reports: files that do not parse and
//! suppressions that do not hold.

use crate::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a file redline could not parse: Go that is not valid Go,
    /// malformed YAML or JSON in a file that declares a Kubernetes `kind`,
    /// a `go.mod` that does not parse, a file that is not UTF-8. The
    /// diagnostic points at the first error. In manifests it also reports
    /// the fields the manifest rules read when their shape is one
    /// Kubernetes rejects (`containers`, `env`, `envFrom` that are not
    /// lists, an `env` entry without a `name`); that container is not
    /// checked further. In an unrendered Helm/Go template (`{{ … }}`)
    /// these are `info`: render it first.
    ///
    /// ## Why is this bad?
    /// A file that cannot be parsed cannot be checked. redline never skips
    /// such a file silently: a gate that ignores what it cannot read
    /// passes code nobody checked.
    ///
    /// ## Fix
    /// Fix the syntax error (`gofmt -e file.go` shows Go errors).
    pub struct ParseError {
        id: "RL000",
        name: "parse-error",
        severity: Error,
        fix: None,
        target: Driver,
        summary: "a file could not be parsed, so it was not checked",
    }
}

declare_rule! {
    /// ## What it does
    /// Reports a `//redline:ignore` or `//redline:ignore-file` comment that
    /// has no reason (`-- why`), names an unknown rule, or suppresses
    /// nothing.
    ///
    /// ## Why is this bad?
    /// Suppressions are exceptions to production red lines; each must say
    /// why, and one that no longer hides anything should go, so the list of
    /// exceptions stays auditable.
    ///
    /// ## Example
    /// ```go
    /// //redline:ignore RL101
    /// idx := new(map[string]int)
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// //redline:ignore RL101 -- only read; the nil map is never written
    /// idx := new(map[string]int)
    /// ```
    ///
    /// ## Fix
    /// Add the reason, or delete the comment when it suppresses nothing.
    pub struct InvalidSuppression {
        id: "RL001",
        name: "invalid-suppression",
        severity: Warning,
        fix: None,
        target: Driver,
        summary: "a suppression without a reason, with an unknown rule, or that suppresses nothing",
    }
}
