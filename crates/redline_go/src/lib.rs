//! Go source for redline: discovery of `.go` files (honouring `.gitignore`,
//! skipping `vendor/`, hidden directories, generated files and test code),
//! parsing with tree-sitter (the Go 1.26 grammar of `redline_go_grammar`),
//! and the semantic model that rules query:
//!
//! - per file ([`GoFile`]): imports (path → local name, dot and blank
//!   imports), scope-aware resolution of `pkg.Name` so that a local
//!   variable, parameter or type named like an import is not the package,
//!   and an index of the node kinds rules look at;
//! - per package ([`Package`]): type declarations with their underlying
//!   kinds, struct fields, methods by receiver type, named map types.
//!
//! Files are parsed exactly once; rules never re-read or re-parse.

mod discover;
mod file;
pub mod flow;
mod gomod;
mod package;
mod parse;
mod resolve;

pub use discover::{
    Constraint, DEFAULT_TEST_BUILD_TAGS, DEFAULT_TEST_DIRS, Discovered, DiscoveredFile,
    DiscoveryOptions, EntryFilter, MANIFEST_EXTENSIONS, TestPaths, build_constraint, discover,
    is_generated, is_manifest_path,
};
pub use file::{GoFile, Import, ImportName, NodeIndex, unparen};
pub use gomod::{GoMod, GoModError, GoVersion, Requirement, parse_go_mod, read_go_mod};
pub use package::{
    MethodInfo, Package, StructField, TypeDecl, TypeKind, struct_fields, unparen_type,
};
pub use parse::{first_error, nul_byte, parse_go, parse_tree};
pub use resolve::{
    DeclarationCache, ancestors, enclosing_function, local_declaration, local_declaration_along,
};
pub use tree_sitter::{Node, Tree};

/// Text of a node in `source` (empty on invalid UTF-8).
pub fn node_text<'a>(node: Node<'_>, source: &'a [u8]) -> &'a str {
    std::str::from_utf8(&source[node.byte_range()]).unwrap_or("")
}

/// Whether `path` is Go test code: a `_test.go` file or under `testdata/`.
pub fn is_test_path(path: &std::path::Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("_test.go"))
        || path.components().any(|c| c.as_os_str() == "testdata")
}
