//! The rule metadata every [`Diagnostic`] points at: id, name, default
//! severity, fix availability, whether the rule is active by default, and
//! its documentation. Each rule declares it once ([`crate::declare_rule!`]); the
//! [`Emitter`] fills a finding's rule and severity from it, so rule code
//! never types an id or a severity.
//!
//! The rules the loaders and the driver report themselves (a file that
//! does not parse, a suppression that does not hold) are declared here,
//! below every loader that reports them.

use crate::{Applicability, Diagnostic, Edit, Fix, Severity, Span};
use std::fmt;

/// What a rule inspects, and so which model it is run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// Go source, per package model.
    Go,
    /// `go.mod`.
    GoMod,
    /// Kubernetes manifests, per workload and container.
    Manifest,
    /// Reported by the loaders and the driver (parse errors, suppressions).
    Driver,
}

/// What the catalog says of a rule.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable id, e.g. `RL101`.
    pub id: &'static str,
    /// Stable name, e.g. `new-map`.
    pub name: &'static str,
    /// The default severity (`redline.toml` `[severity]` changes it).
    pub severity: Severity,
    /// The kind of fix the rule offers, if any.
    pub fix: Option<Applicability>,
    /// One line: what the rule finds.
    pub finds: &'static str,
    /// The rule's doc comment (Markdown, one-space indent kept).
    pub doc: &'static str,
    pub kind: RuleKind,
    /// `false`: the rule does nothing until `redline.toml` configures it.
    pub active_by_default: bool,
}

impl RuleMeta {
    /// The documentation with the one-space indent of `///` comments removed.
    pub fn documentation(&self) -> String {
        let mut out = String::new();
        for line in self.doc.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }
}

/// Rules are identified by their id: two `&RuleMeta` of one rule are equal
/// wherever the constant was taken.
impl PartialEq for RuleMeta {
    fn eq(&self, other: &RuleMeta) -> bool {
        self.id == other.id
    }
}

impl Eq for RuleMeta {}

impl fmt::Display for RuleMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

/// Declares a rule: a unit struct whose doc comment is its documentation,
/// and its `META`. `inactive_until_configured: true` marks a rule that
/// does nothing until `redline.toml` configures it.
#[macro_export]
macro_rules! declare_rule {
    (@fix None) => { None };
    (@fix Safe) => { Some($crate::Applicability::Safe) };
    (@fix Unsafe) => { Some($crate::Applicability::Unsafe) };
    (@fix DisplayOnly) => { Some($crate::Applicability::DisplayOnly) };
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $ty:ident {
            id: $id:literal,
            name: $name:literal,
            severity: $sev:ident,
            fix: $fix:ident,
            kind: $kind:ident,
            finds: $finds:literal
            $(, inactive_until_configured: $inactive:literal)? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        $vis struct $ty;
        impl $ty {
            pub const META: $crate::RuleMeta = $crate::RuleMeta {
                id: $id,
                name: $name,
                severity: $crate::Severity::$sev,
                fix: $crate::declare_rule!(@fix $fix),
                finds: $finds,
                doc: concat!($($doc, "\n"),*),
                kind: $crate::RuleKind::$kind,
                active_by_default: true $(&& !$inactive)?,
            };
        }
    };
}

/// Builds the findings of one rule in one file: the rule, its default
/// severity and the path come from here, the position, message, help and
/// fix from the rule.
#[derive(Debug)]
pub struct Emitter<'a> {
    rule: &'static RuleMeta,
    path: &'a str,
    out: &'a mut Vec<Diagnostic>,
}

impl<'a> Emitter<'a> {
    pub fn new(rule: &'static RuleMeta, path: &'a str, out: &'a mut Vec<Diagnostic>) -> Self {
        Emitter { rule, path, out }
    }

    /// The rule this emitter reports for.
    pub fn rule(&self) -> &'static RuleMeta {
        self.rule
    }

    /// Reports a finding at `span`; refine it through the returned value.
    pub fn report(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.out
            .push(Diagnostic::new(self.rule, self.path, span, message.into()));
        let last = self.out.len() - 1;
        &mut self.out[last]
    }
}

impl Diagnostic {
    /// A finding of `rule` with its default severity.
    pub fn new(rule: &'static RuleMeta, path: &str, span: Span, message: String) -> Diagnostic {
        Diagnostic {
            rule,
            severity: rule.severity,
            path: path.to_string(),
            span,
            message,
            help: None,
            fix: None,
        }
    }

    /// Adds help text.
    pub fn help(&mut self, help: impl Into<String>) -> &mut Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Reports the finding as a notice only: the rule cannot tell whether
    /// it is a problem (a variable that may come from `envFrom`, a file
    /// that may not be a manifest). `info` never fails a run.
    pub fn notice_only(&mut self) -> &mut Diagnostic {
        self.severity = Severity::Info;
        self
    }

    /// Attaches the rule's fix: one replacement of `span` by `content`.
    pub fn fix(&mut self, span: Span, content: String) -> &mut Diagnostic {
        self.fix_edits(vec![Edit { span, content }])
    }

    /// Attaches the rule's fix as several edits, applied together. Its
    /// safety is the one the rule declares; a rule that declares no fix
    /// must not offer one (the catalog test runs every rule over its
    /// fixtures and fails on it; in release builds the fix is shown only).
    pub fn fix_edits(&mut self, edits: Vec<Edit>) -> &mut Diagnostic {
        debug_assert!(
            self.rule.fix.is_some(),
            "{} declares no fix but offers one",
            self.rule.id
        );
        self.fix = Some(Fix {
            applicability: self.rule.fix.unwrap_or(Applicability::DisplayOnly),
            edits,
        });
        self
    }
}

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
        kind: Driver,
        finds: "a file could not be parsed, so it was not checked",
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
        kind: Driver,
        finds: "a suppression without a reason, with an unknown rule, or that suppresses nothing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    declare_rule! {
        /// ## What it does
        /// A rule for these tests.
        struct Example {
            id: "RL999",
            name: "example",
            severity: Warning,
            fix: Unsafe,
            kind: Go,
            finds: "an example",
            inactive_until_configured: true,
        }
    }

    #[test]
    fn the_declaration_is_the_metadata() {
        let m = &Example::META;
        assert_eq!((m.id, m.name, m.finds), ("RL999", "example", "an example"));
        assert_eq!(m.severity, Severity::Warning);
        assert_eq!(m.fix, Some(Applicability::Unsafe));
        assert!(!m.active_by_default);
        assert_eq!(
            m.documentation(),
            "## What it does\nA rule for these tests.\n"
        );
        let parse = &ParseError::META;
        assert!(parse.active_by_default);
        assert_eq!(parse.kind, RuleKind::Driver);
    }

    #[test]
    fn the_emitter_fills_rule_severity_path_and_fix_safety() {
        let mut out = Vec::new();
        let mut em = Emitter::new(&Example::META, "a.go", &mut out);
        let span = Span::default();
        em.report(span, "first").help("do this");
        em.report(span, "second")
            .notice_only()
            .fix(span, "x".into());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].rule, &Example::META);
        assert_eq!((out[0].rule.id, out[0].rule.name), ("RL999", "example"));
        assert_eq!(out[0].severity, Severity::Warning);
        assert_eq!(out[0].path, "a.go");
        assert_eq!(out[0].help.as_deref(), Some("do this"));
        assert!(out[0].fix.is_none());
        assert_eq!(out[1].severity, Severity::Info);
        let fix = out[1].fix.as_ref().expect("a fix");
        assert_eq!(fix.applicability, Applicability::Unsafe);
        assert_eq!(fix.edits[0].content, "x");
    }
}
