//! One parsed Go file and what rules ask of it.

use crate::{node_text, parse_tree};
use redline_diagnostics::{LineIndex, Span};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use tree_sitter::{Node, Tree};

/// How an import is named in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportName {
    /// No explicit name: the package's own name (guessed from the path,
    /// see `default_package_name`).
    Default(String),
    /// `name "path"`.
    Named(String),
    /// `. "path"`.
    Dot,
    /// `_ "path"`.
    Blank,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub path: String,
    pub name: ImportName,
    /// Byte range of the whole import spec.
    pub start_byte: usize,
    pub end_byte: usize,
}

impl Import {
    /// The identifier this import is referred to by, if any.
    pub fn local_name(&self) -> Option<&str> {
        match &self.name {
            ImportName::Default(n) | ImportName::Named(n) => Some(n),
            ImportName::Dot | ImportName::Blank => None,
        }
    }
}

/// The package name Go code refers to an import by when it is not renamed.
/// Without the imported package's source this is the convention: the last
/// path element, skipping a major-version suffix (`/v2`) and `gopkg.in`'s
/// `.v2`, with a few well-known exceptions.
pub fn default_package_name(path: &str) -> String {
    match path {
        "sigs.k8s.io/controller-runtime" => return "controllerruntime".into(),
        "github.com/go-logr/logr" => return "logr".into(),
        _ => {}
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.len() > 1
        && parts.last().is_some_and(|l| {
            l.len() >= 2 && l.starts_with('v') && l[1..].bytes().all(|b| b.is_ascii_digit())
        })
        && !path.starts_with("k8s.io/api/")
        && !path.contains("/apis/")
        && !path.contains("/api/")
    {
        parts.pop();
    }
    let last = parts.last().copied().unwrap_or(path);
    let last = match last.find(".v") {
        Some(i) if last[i + 2..].bytes().all(|b| b.is_ascii_digit()) && i + 2 < last.len() => {
            &last[..i]
        }
        _ => last,
    };
    let last = last.strip_prefix("go-").unwrap_or(last);
    last.replace(['-', '.'], "_")
}

/// A parsed Go file. Owns its source and tree; everything else borrows.
/// Cloning is cheap (the source is shared and tree-sitter trees are
/// reference-counted): the package model keeps a copy of each file.
#[derive(Clone)]
pub struct GoFile {
    pub path: PathBuf,
    /// Path shown to users.
    pub display: String,
    pub source: Arc<[u8]>,
    pub tree: Tree,
    pub lines: LineIndex,
    pub package_name: String,
    pub imports: Vec<Import>,
    /// `_test.go` or under `testdata/`.
    pub is_test: bool,
}

impl GoFile {
    /// Parses `source`. Returns `None` when tree-sitter produced no tree.
    pub fn parse(path: PathBuf, display: String, source: Arc<[u8]>) -> Option<GoFile> {
        let tree = parse_tree(&source)?;
        let lines = LineIndex::new(&source);
        let mut package_name = String::new();
        let mut imports = Vec::new();
        {
            let root = tree.root_node();
            let mut cursor = root.walk();
            for child in root.named_children(&mut cursor) {
                match child.kind() {
                    "package_clause" => {
                        if let Some(id) = child.named_child(0) {
                            package_name = node_text(id, &source).to_string();
                        }
                    }
                    "import_declaration" => collect_imports(child, &source, &mut imports),
                    _ => {}
                }
            }
        }
        let is_test = crate::is_test_path(&path);
        Some(GoFile {
            path,
            display,
            source,
            tree,
            lines,
            package_name,
            imports,
            is_test,
        })
    }

    pub fn text(&self, node: Node<'_>) -> &str {
        node_text(node, &self.source)
    }

    pub fn span(&self, node: Node<'_>) -> Span {
        self.lines.span(node.start_byte(), node.end_byte())
    }

    pub fn span_bytes(&self, start: usize, end: usize) -> Span {
        self.lines.span(start, end)
    }

    /// Imports of `path` (usually zero or one).
    pub fn imports_of<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a Import> + 'a {
        self.imports.iter().filter(move |i| i.path == path)
    }

    pub fn imports_path(&self, path: &str) -> bool {
        self.imports.iter().any(|i| i.path == path)
    }

    /// Builds the node index: one walk over the tree.
    pub fn index(&self) -> NodeIndex<'_> {
        NodeIndex::build(self)
    }
}

fn collect_imports(decl: Node<'_>, source: &[u8], out: &mut Vec<Import>) {
    let mut cursor = decl.walk();
    for child in decl.named_children(&mut cursor) {
        match child.kind() {
            "import_spec" => {
                if let Some(i) = import_spec(child, source) {
                    out.push(i);
                }
            }
            "import_spec_list" => {
                let mut c2 = child.walk();
                for spec in child.named_children(&mut c2) {
                    if spec.kind() == "import_spec"
                        && let Some(i) = import_spec(spec, source)
                    {
                        out.push(i);
                    }
                }
            }
            _ => {}
        }
    }
}

fn import_spec(spec: Node<'_>, source: &[u8]) -> Option<Import> {
    let path_node = spec.child_by_field_name("path")?;
    let raw = node_text(path_node, source);
    let path = raw.trim_matches(|c| c == '"' || c == '`').to_string();
    let name = match spec.child_by_field_name("name") {
        None => ImportName::Default(default_package_name(&path)),
        Some(n) => match n.kind() {
            "dot" => ImportName::Dot,
            "blank_identifier" => ImportName::Blank,
            _ => ImportName::Named(node_text(n, source).to_string()),
        },
    };
    Some(Import {
        path,
        name,
        start_byte: spec.start_byte(),
        end_byte: spec.end_byte(),
    })
}

/// The nodes rules look at, collected in one walk, plus the names declared
/// anywhere inside function bodies (a fast path for shadowing checks).
pub struct NodeIndex<'a> {
    pub file: &'a GoFile,
    pub calls: Vec<Node<'a>>,
    pub composite_literals: Vec<Node<'a>>,
    /// `function_declaration`, `method_declaration` and `func_literal`.
    pub functions: Vec<Node<'a>>,
    pub go_statements: Vec<Node<'a>>,
    pub type_specs: Vec<Node<'a>>,
    /// Index expressions written by an assignment (`m[k] = v`, `m[k] += v`)
    /// or an inc/dec statement (`m[k]++`), in source order.
    pub index_writes: Vec<Node<'a>>,
    /// Every identifier declared in a local scope (parameters, results,
    /// receivers, `:=`, local `var`/`const`/`type`, range and type-switch
    /// bindings).
    local_names: HashSet<&'a str>,
}

impl<'a> NodeIndex<'a> {
    fn build(file: &'a GoFile) -> NodeIndex<'a> {
        let mut idx = NodeIndex {
            file,
            calls: Vec::new(),
            composite_literals: Vec::new(),
            functions: Vec::new(),
            go_statements: Vec::new(),
            index_writes: Vec::new(),
            type_specs: Vec::new(),
            local_names: HashSet::new(),
        };
        let root = file.tree.root_node();
        let mut cursor = root.walk();
        let tags = kind_tags();
        // Depth of function nesting, to know whether a declaration is local.
        let mut fn_depth_stack: Vec<usize> = Vec::new();
        let mut depth = 0usize;
        loop {
            let node = cursor.node();
            // Most nodes are tokens and identifiers: one table look-up by
            // kind id decides, with no string comparison.
            let tag = tags
                .get(usize::from(node.kind_id()))
                .copied()
                .unwrap_or(Tag::Other);
            let in_function = !fn_depth_stack.is_empty();
            match tag {
                Tag::Other | Tag::Opaque | Tag::Expr => {}
                Tag::Call => idx.calls.push(node),
                Tag::CompositeLiteral => idx.composite_literals.push(node),
                Tag::Function => idx.functions.push(node),
                Tag::Go => idx.go_statements.push(node),
                Tag::Assignment => {
                    if let Some(left) = node.child_by_field_name("left") {
                        let mut c = left.walk();
                        for target in left.named_children(&mut c) {
                            let target = unparen(target);
                            if target.kind() == "index_expression" {
                                idx.index_writes.push(target);
                            }
                        }
                    }
                }
                Tag::IncDec => {
                    if let Some(target) = node.named_child(0).map(unparen)
                        && target.kind() == "index_expression"
                    {
                        idx.index_writes.push(target);
                    }
                }
                Tag::TypeSpec => {
                    if in_function && let Some(n) = node.child_by_field_name("name") {
                        idx.local_names.insert(node_text(n, &file.source));
                    }
                    idx.type_specs.push(node);
                }
                Tag::Parameter => {
                    let mut c = node.walk();
                    for n in node.children_by_field_name("name", &mut c) {
                        idx.local_names.insert(node_text(n, &file.source));
                    }
                }
                Tag::VarOrConst if in_function => {
                    let mut c = node.walk();
                    for n in node.children_by_field_name("name", &mut c) {
                        idx.local_names.insert(node_text(n, &file.source));
                    }
                }
                Tag::Binding => {
                    if let Some(left) = node.child_by_field_name("left") {
                        let mut c = left.walk();
                        for n in left.named_children(&mut c) {
                            if n.kind() == "identifier" {
                                idx.local_names.insert(node_text(n, &file.source));
                            }
                        }
                    }
                }
                Tag::TypeSwitch => {
                    if let Some(alias) = node.child_by_field_name("alias") {
                        let mut c = alias.walk();
                        for n in alias.named_children(&mut c) {
                            idx.local_names.insert(node_text(n, &file.source));
                        }
                    }
                }
                Tag::VarOrConst => {}
            }
            let is_fn = tag == Tag::Function;
            let enter = match tag {
                Tag::Opaque => false,
                Tag::Expr => file.source[node.start_byte()..node.end_byte()]
                    .iter()
                    .any(|&b| b == b'(' || b == b'{'),
                _ => true,
            };
            if enter && cursor.goto_first_child() {
                depth += 1;
                if is_fn {
                    fn_depth_stack.push(depth);
                }
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return idx;
                }
                if fn_depth_stack.last() == Some(&depth) {
                    fn_depth_stack.pop();
                }
                depth -= 1;
            }
        }
    }

    /// Whether `name` is bound by a local declaration visible at `at`.
    pub fn is_local_binding(&self, name: &str, at: Node<'a>) -> bool {
        if !self.local_names.contains(name) {
            return false;
        }
        crate::local_declaration(name, at, self.file.tree.root_node(), &self.file.source).is_some()
    }

    /// The identifier that declares `name` in the innermost local scope
    /// enclosing `at` (see [`crate::local_declaration`]).
    pub fn local_declaration(&self, name: &str, at: Node<'a>) -> Option<Node<'a>> {
        crate::local_declaration(name, at, self.file.tree.root_node(), &self.file.source)
    }

    /// The function whose body most closely encloses `node`.
    pub fn enclosing_function(&self, node: Node<'a>) -> Option<Node<'a>> {
        crate::enclosing_function(node, self.file.tree.root_node())
    }

    /// Resolves `pkg.Name` where `node` is a `selector_expression`,
    /// `qualified_type` or (for dot imports) a bare `identifier` /
    /// `type_identifier`: the import path and member name, when the
    /// operand is really an imported package at that point.
    pub fn resolve(&self, node: Node<'a>) -> Option<(&'a str, &'a str)> {
        let file = self.file;
        match node.kind() {
            "selector_expression" => {
                let operand = node.child_by_field_name("operand")?;
                let field = node.child_by_field_name("field")?;
                if operand.kind() != "identifier" {
                    return None;
                }
                let pkg = node_text(operand, &file.source);
                let import = file.imports.iter().find(|i| i.local_name() == Some(pkg))?;
                if self.is_local_binding(pkg, operand) {
                    return None;
                }
                Some((import.path.as_str(), node_text(field, &file.source)))
            }
            "qualified_type" => {
                let pkg_node = node.child_by_field_name("package")?;
                let name = node.child_by_field_name("name")?;
                let pkg = node_text(pkg_node, &file.source);
                let import = file.imports.iter().find(|i| i.local_name() == Some(pkg))?;
                if self.is_local_binding(pkg, pkg_node) {
                    return None;
                }
                Some((import.path.as_str(), node_text(name, &file.source)))
            }
            "identifier" | "type_identifier" => {
                let name = node_text(node, &file.source);
                // Only dot imports make a bare name refer to another package;
                // which one cannot be known without its source, so the
                // caller asks for a specific path with `resolve_to`.
                let dot = file.imports.iter().find(|i| i.name == ImportName::Dot)?;
                if self.is_local_binding(name, node) {
                    return None;
                }
                Some((dot.path.as_str(), name))
            }
            _ => None,
        }
    }

    /// Whether `node` (a selector, qualified type or bare identifier)
    /// refers to `member` of the package imported from `path`.
    pub fn refers_to(&self, node: Node<'a>, path: &str, member: &str) -> bool {
        match node.kind() {
            "identifier" | "type_identifier" => {
                if node_text(node, &self.file.source) != member {
                    return false;
                }
                let dot_imported = self
                    .file
                    .imports
                    .iter()
                    .any(|i| i.name == ImportName::Dot && i.path == path);
                dot_imported && !self.is_local_binding(member, node)
            }
            _ => self.resolve(node) == Some((path, member)),
        }
    }

    /// For a call, the callee resolved to (import path, function name).
    /// Handles `pkg.F(...)`, dot-imported `F(...)` (checked against
    /// `candidates`), and parenthesised callees.
    pub fn callee<'p>(
        &self,
        call: Node<'a>,
        candidates: &[(&'p str, &'p str)],
    ) -> Option<(&'p str, &'p str)> {
        let mut func = call.child_by_field_name("function")?;
        while func.kind() == "parenthesized_expression" {
            func = func.named_child(0)?;
        }
        match func.kind() {
            "selector_expression" => {
                let resolved = self.resolve(func)?;
                candidates.iter().find(|c| **c == resolved).copied()
            }
            "identifier" => candidates
                .iter()
                .find(|(p, m)| self.refers_to(func, p, m))
                .copied(),
            _ => None,
        }
    }
}

/// `node` without the parentheses around it (`((x))` → `x`): the one
/// copy, for the model, the flow framework and the rules.
pub fn unparen(mut node: Node<'_>) -> Node<'_> {
    while node.kind() == "parenthesized_expression" {
        match node.named_child(0) {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// What the node index does with a node kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Other,
    /// A subtree that holds nothing the index collects (types, strings,
    /// comments, imports): not entered. Go types hold no expressions but
    /// constant array lengths.
    Opaque,
    /// An expression (or a statement made of expressions only): entered
    /// only when its text holds a `(` or `{`. Without them it holds no
    /// call, composite literal or function literal, hence nothing the
    /// index collects (assignments, declarations and `go` statements live
    /// in blocks, which need `{`). Most selector and index expressions
    /// (`r.client`, `m[k]`) are skipped this way.
    Expr,
    Call,
    CompositeLiteral,
    Function,
    Go,
    Assignment,
    IncDec,
    TypeSpec,
    Parameter,
    VarOrConst,
    Binding,
    TypeSwitch,
}

/// The tag of every node kind id of the grammar, built once per process.
/// Built from names over all ids, so aliased kinds are covered too.
fn kind_tags() -> &'static [Tag] {
    static TAGS: std::sync::OnceLock<Vec<Tag>> = std::sync::OnceLock::new();
    TAGS.get_or_init(|| {
        let language = redline_go_grammar::language();
        let count = language.node_kind_count();
        (0..count)
            .map(|id| {
                let id = u16::try_from(id).unwrap_or(u16::MAX);
                if !language.node_kind_is_named(id) {
                    return Tag::Other;
                }
                match language.node_kind_for_id(id).unwrap_or("") {
                    "call_expression" => Tag::Call,
                    "composite_literal" => Tag::CompositeLiteral,
                    "function_declaration" | "method_declaration" | "func_literal" => Tag::Function,
                    "go_statement" => Tag::Go,
                    "assignment_statement" => Tag::Assignment,
                    "inc_statement" | "dec_statement" => Tag::IncDec,
                    "type_spec" | "type_alias" => Tag::TypeSpec,
                    "parameter_declaration" | "variadic_parameter_declaration" => Tag::Parameter,
                    "var_spec" | "const_spec" => Tag::VarOrConst,
                    "short_var_declaration" | "range_clause" | "receive_statement" => Tag::Binding,
                    "type_switch_statement" => Tag::TypeSwitch,
                    "selector_expression"
                    | "index_expression"
                    | "slice_expression"
                    | "binary_expression"
                    | "unary_expression"
                    | "parenthesized_expression"
                    | "expression_list"
                    | "keyed_element"
                    | "literal_element"
                    | "return_statement"
                    | "send_statement"
                    | "expression_statement" => Tag::Expr,
                    "comment"
                    | "interpreted_string_literal"
                    | "raw_string_literal"
                    | "rune_literal"
                    | "import_declaration"
                    | "package_clause"
                    | "qualified_type"
                    | "pointer_type"
                    | "slice_type"
                    | "array_type"
                    | "implicit_length_array_type"
                    | "map_type"
                    | "channel_type"
                    | "struct_type"
                    | "interface_type"
                    | "function_type"
                    | "generic_type"
                    | "type_arguments"
                    | "type_parameter_list"
                    | "negated_type"
                    | "type_constraint" => Tag::Opaque,
                    _ => Tag::Other,
                }
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> GoFile {
        GoFile::parse(
            PathBuf::from("p.go"),
            "p.go".into(),
            Arc::from(src.as_bytes()),
        )
        .expect("parses")
    }

    /// A parameter named like a package shadows it in the body, not in
    /// the parameter list's own types.
    #[test]
    fn parameters_shadow_in_the_body_only() {
        let src =
            "package p\n\nimport \"net/http\"\n\nfunc f(http *http.Client) {\n\t_ = http.Get\n}\n";
        let file = parse(src);
        let idx = file.index();
        let root = file.tree.root_node();
        let node_at = |needle: &str| {
            let start = src.find(needle).expect("needle");
            root.descendant_for_byte_range(start, start + 4)
                .expect("node")
        };
        let in_type = node_at("http.Client");
        assert_eq!(in_type.kind(), "package_identifier");
        assert!(!idx.is_local_binding("http", in_type));
        let in_body = node_at("http.Get");
        assert!(idx.is_local_binding("http", in_body));
    }

    /// The index skips expressions without `(` or `{`, and must still find
    /// everything inside the ones that have them.
    #[test]
    fn index_finds_nodes_inside_expressions() {
        let src = r#"package p

func f(r *R, m map[string]int) (int, error) {
	x := r.client.Get(ctx).Items[key(k)]
	y := a.b.c[i] + len(s) * T{A: g(h)}.n
	ch <- func() int { m["sent"] = 1; return 0 }()
	go func() { m["go"]++ }()
	_ = S{F: func(v int) { z := v; m[k] = z }}
	return r.n, errorf("%d", m[k])
}
"#;
        let file = parse(src);
        let idx = file.index();
        let text = |n: &Node<'_>| node_text(*n, &file.source).to_string();
        let calls: Vec<String> = idx.calls.iter().map(text).collect();
        for c in [
            "r.client.Get(ctx)",
            "key(k)",
            "len(s)",
            "g(h)",
            "errorf(\"%d\", m[k])",
        ] {
            assert!(calls.iter().any(|x| x == c), "{c} not in {calls:?}");
        }
        let lits: Vec<String> = idx.composite_literals.iter().map(text).collect();
        assert!(lits.iter().any(|l| l == "T{A: g(h)}"), "{lits:?}");
        assert!(lits.iter().any(|l| l.starts_with("S{F: func")), "{lits:?}");
        // f and three function literals (in a send, a go statement and a
        // keyed element).
        assert_eq!(idx.functions.len(), 4);
        assert_eq!(idx.go_statements.len(), 1);
        let writes: Vec<String> = idx.index_writes.iter().map(text).collect();
        assert_eq!(writes, vec!["m[\"sent\"]", "m[\"go\"]", "m[k]"]);
        assert!(idx.local_names.contains("z"));
        assert!(idx.local_names.contains("v"));
    }
}
