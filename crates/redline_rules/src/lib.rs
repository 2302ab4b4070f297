//! The red-line catalog (its documentation is generated into docs/rules.md): one module per rule family, one file
//! per rule, and the registry ([`FAMILIES`], from which [`ALL_RULES`], [`GO_RULES`], [`GO_MOD_RULES`] and
//! [`MANIFEST_RULES`] are built). A rule's doc comment is its user
//! documentation: `redline explain` prints it and the README's rule table
//! is generated from the registry, so docs and code cannot drift.

use redline_diagnostics::{Diagnostic, Emitter, LineIndex, Span};
use redline_go::{GoFile, GoMod, Node, NodeIndex, Package};

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
pub use registry::{
    ALL_RULES, DOCUMENT_RULES, FAMILIES, Family, GO_MOD_RULES, GO_RULES, Listed, MANIFEST_RULES,
    RuleSelector, find_rule, readme_table,
};

pub use redline_diagnostics::{RuleKind, RuleMeta, declare_rule};

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
}

/// Where a Go rule reports: the findings of that one rule in one file. The
/// rule's id, name and default severity come from its metadata.
pub struct Findings<'a> {
    emitter: Emitter<'a>,
    file: &'a GoFile,
}

impl<'a> Findings<'a> {
    pub fn new(rule: &'static RuleMeta, file: &'a GoFile, out: &'a mut Vec<Diagnostic>) -> Self {
        Findings {
            emitter: Emitter::new(rule, &file.display, out),
            file,
        }
    }

    /// Reports a finding at `node`.
    pub fn report(&mut self, node: Node<'_>, message: impl Into<String>) -> &mut Diagnostic {
        let span = self.file.span(node);
        self.emitter.report(span, message)
    }

    /// Reports a finding at `span`.
    pub fn report_span(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.emitter.report(span, message)
    }
}

/// A rule over Go source, run on every file with its package model.
pub trait GoRule: Sync + Send {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>);

    /// Runs the rule on one file, appending its findings to `out`.
    fn run(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        self.check(cx, &mut Findings::new(self.meta(), cx.file, out));
    }
}

/// What a go.mod rule sees: one parsed `go.mod`.
pub struct GoModContext<'a> {
    pub go_mod: &'a GoMod,
    pub lines: &'a LineIndex,
    pub settings: &'a Settings,
}

/// A rule over `go.mod`; it reports through an [`Emitter`] of its own
/// metadata.
pub trait GoModRule: Sync + Send {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &GoModContext<'_>, out: &mut Emitter<'_>);
}

/// Strips the parentheses around an expression (the one copy lives in
/// `redline_go`).
pub use redline_go::unparen;

/// The named, non-comment children of a node (e.g. a call's arguments).
pub fn args<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect()
}
