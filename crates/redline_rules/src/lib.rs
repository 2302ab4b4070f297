//! The red-line catalog (its documentation is generated into docs/rules.md): one module per rule family, one file
//! per rule, and the registry ([`ALL_RULES`], [`GO_RULES`]). A rule's doc comment is its user
//! documentation: `redline explain` prints it and the README's rule table
//! is generated from the registry, so docs and code cannot drift.

use redline_diagnostics::{Applicability, Diagnostic, Fix, Severity, Span};
use redline_go::{GoFile, Node, NodeIndex, Package};

pub mod controllers;
pub mod http;
pub mod logging;
pub mod manifests;
pub mod map_safety;
pub mod meta;
pub mod modules;
pub mod runtime_config;
pub mod slo;

mod catalog_doc;
mod registry;
pub use catalog_doc::catalog_markdown;
pub use registry::{ALL_RULES, GO_RULES, RuleSelector, find_rule, readme_table};

/// Where a rule looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Go source files.
    Go,
    /// `go.mod`.
    GoMod,
    /// Kubernetes manifests.
    Manifest,
    /// Produced by the driver itself (parse errors, suppressions).
    Driver,
}

/// What the catalog says of a rule.
#[derive(Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// The kind of fix the rule offers, if any.
    pub fix: Option<Applicability>,
    /// One line: what it finds.
    pub summary: &'static str,
    /// The rule's doc comment (Markdown).
    pub doc: &'static str,
    pub target: Target,
    /// Inactive until configured (RL601).
    pub needs_config: bool,
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

/// Rule-specific settings from `redline.toml`.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// RL401 (`[rules.std-log] banned-imports`): import paths banned in
    /// production code, reported at the import spec. Empty by default: the
    /// standard `log` package is judged by its calls, not its import.
    pub banned_imports: Vec<String>,
    /// RL601: modules every `go.mod` must require.
    pub required_modules: Vec<String>,
}

/// What a Go rule sees: one file, its node index and its package.
pub struct Context<'a> {
    pub file: &'a GoFile,
    pub index: &'a NodeIndex<'a>,
    pub package: &'a Package,
    pub settings: &'a Settings,
}

impl<'a> Context<'a> {
    pub fn text(&self, node: Node<'_>) -> &'a str {
        redline_go::node_text(node, &self.file.source)
    }

    /// A diagnostic at `span` with the rule's default severity.
    pub fn diagnostic(&self, meta: &'static RuleMeta, span: Span, message: String) -> Diagnostic {
        Diagnostic {
            rule: meta.id,
            name: meta.name,
            severity: meta.severity,
            path: self.file.display.clone(),
            span,
            message,
            help: None,
            fix: None,
        }
    }

    pub fn node_diagnostic(
        &self,
        meta: &'static RuleMeta,
        node: Node<'_>,
        message: String,
    ) -> Diagnostic {
        self.diagnostic(meta, self.file.span(node), message)
    }
}

/// A rule over Go source.
pub trait GoRule: Sync + Send {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>);
}

/// Adds help text and a fix to a diagnostic, builder-style.
pub trait DiagnosticExt {
    fn with_help(self, help: impl Into<String>) -> Self;
    fn with_fix(self, applicability: Applicability, span: Span, content: String) -> Self;
}

impl DiagnosticExt for Diagnostic {
    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    fn with_fix(mut self, applicability: Applicability, span: Span, content: String) -> Self {
        self.fix = Some(Fix {
            applicability,
            edits: vec![redline_diagnostics::Edit { span, content }],
        });
        self
    }
}

/// Declares a rule: a unit struct whose doc comment is its documentation,
/// and its `META`.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $ty:ident {
            id: $id:literal,
            name: $name:literal,
            severity: $sev:ident,
            fix: $fix:expr,
            target: $target:ident,
            summary: $summary:literal
            $(, needs_config: $nc:literal)? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        $vis struct $ty;
        impl $ty {
            pub const META: $crate::RuleMeta = $crate::RuleMeta {
                id: $id,
                name: $name,
                severity: redline_diagnostics::Severity::$sev,
                fix: $fix,
                summary: $summary,
                doc: concat!($($doc, "\n"),*),
                target: $crate::Target::$target,
                needs_config: false $(|| $nc)?,
            };
        }
    };
}

/// Strips the parentheses around an expression.
pub fn unparen(mut node: Node<'_>) -> Node<'_> {
    while node.kind() == "parenthesized_expression" {
        match node.named_child(0) {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// The named, non-comment children of a node (e.g. a call's arguments).
pub fn args<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect()
}
