//! Which declaration a local name refers to. [`crate::NodeIndex::is_local_binding`]
//! answers "is it local?"; rules that need the declaration itself (its type,
//! its initial value, which function declared it) ask [`local_declaration`].

use crate::node_text;
use std::collections::HashMap;
use tree_sitter::Node;

/// The identifier node that declares `name` in the innermost local scope
/// enclosing `at` (and before `at`), or `None` when the name is not
/// declared locally (a package-level name, an import, a builtin).
///
/// The returned node's parent says what kind of declaration it is:
/// `parameter_declaration`, `var_spec`, or an `expression_list` under a
/// `short_var_declaration`, `range_clause` or `receive_statement`.
pub fn local_declaration<'t>(
    name: &str,
    at: Node<'t>,
    root: Node<'t>,
    source: &[u8],
) -> Option<Node<'t>> {
    declaration_along(name, at, &ancestors(root, at), source, None)
}

/// Block scans memoised for [`local_declaration_along`]: for each block,
/// the names its statements declare, with the end of each declaring
/// statement. Built once per block, so resolving every name of a function
/// with thousands of statements stays linear.
#[derive(Default)]
pub struct DeclarationCache<'t> {
    blocks: HashMap<usize, HashMap<String, Vec<(usize, Node<'t>)>>>,
}

/// [`local_declaration`] for a caller that walks the tree top-down and
/// already holds the ancestors of `at` (`chain`, from the root down to
/// `at`'s parent, as [`ancestors`] gives them): no climb from the root,
/// and block scans come from `cache`.
pub fn local_declaration_along<'t>(
    name: &str,
    at: Node<'t>,
    chain: &[Node<'t>],
    source: &[u8],
    cache: &mut DeclarationCache<'t>,
) -> Option<Node<'t>> {
    declaration_along(name, at, chain, source, Some(cache))
}

fn declaration_along<'t>(
    name: &str,
    at: Node<'t>,
    chain: &[Node<'t>],
    source: &[u8],
    mut cache: Option<&mut DeclarationCache<'t>>,
) -> Option<Node<'t>> {
    let mut child = at;
    for &parent in chain.iter().rev() {
        match parent.kind() {
            "function_declaration" | "method_declaration" | "func_literal" => {
                for field in ["receiver", "parameters", "result", "type_parameters"] {
                    if let Some(list) = parent.child_by_field_name(field)
                        && list.id() != child.id()
                        && let Some(n) = list_declares(list, name, source)
                    {
                        return Some(n);
                    }
                }
            }
            "block" | "statement_list" | "expression_case" | "default_case" | "type_case"
            | "communication_case" => {
                let found = match cache.as_deref_mut() {
                    Some(cache) => cache.last_before(parent, name, child.start_byte(), source),
                    None => {
                        let mut found = None;
                        let mut cursor = parent.walk();
                        for stmt in parent.named_children(&mut cursor) {
                            if stmt.end_byte() > child.start_byte() {
                                break;
                            }
                            if let Some(n) = statement_declares(stmt, name, source) {
                                found = Some(n);
                            }
                        }
                        found
                    }
                };
                if found.is_some() {
                    return found;
                }
                if parent.kind() == "communication_case"
                    && let Some(comm) = parent.child_by_field_name("communication")
                    && comm.id() != child.id()
                    && let Some(n) = statement_declares(comm, name, source)
                {
                    return Some(n);
                }
            }
            "if_statement" | "expression_switch_statement" | "type_switch_statement" => {
                if let Some(init) = parent.child_by_field_name("initializer")
                    && init.id() != child.id()
                    && let Some(n) = statement_declares(init, name, source)
                {
                    return Some(n);
                }
                if parent.kind() == "type_switch_statement"
                    && let Some(alias) = parent.child_by_field_name("alias")
                    && alias.id() != child.id()
                    && child.start_byte() >= alias.end_byte()
                    && let Some(n) = identifier_in(alias, name, source)
                {
                    return Some(n);
                }
            }
            "for_statement" => {
                let mut cursor = parent.walk();
                for part in parent.named_children(&mut cursor) {
                    if part.id() == child.id() {
                        continue;
                    }
                    let found = match part.kind() {
                        "for_clause" => part
                            .child_by_field_name("initializer")
                            .and_then(|init| statement_declares(init, name, source)),
                        "range_clause" => statement_declares(part, name, source),
                        _ => None,
                    };
                    if found.is_some() {
                        return found;
                    }
                }
            }
            "for_clause" => {
                if let Some(init) = parent.child_by_field_name("initializer")
                    && init.id() != child.id()
                    && let Some(n) = statement_declares(init, name, source)
                {
                    return Some(n);
                }
            }
            "source_file" => return None,
            _ => {}
        }
        child = parent;
    }
    None
}

/// The function (`function_declaration`, `method_declaration` or
/// `func_literal`) whose body most closely encloses `node`.
pub fn enclosing_function<'t>(node: Node<'t>, root: Node<'t>) -> Option<Node<'t>> {
    ancestors(root, node).into_iter().rev().find(|p| {
        matches!(
            p.kind(),
            "function_declaration" | "method_declaration" | "func_literal"
        )
    })
}

/// The ancestors of `node`, from `root` down to its parent, found top-down
/// in one pass. tree-sitter's `Node::parent` searches from the root on
/// every call, so climbing with it costs the depth squared: seconds on a
/// function nested thousands of blocks deep.
pub fn ancestors<'t>(root: Node<'t>, node: Node<'t>) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    let mut n = root;
    while n.id() != node.id() {
        out.push(n);
        match n.child_with_descendant(node) {
            Some(c) => n = c,
            None => break,
        }
    }
    out
}

fn list_declares<'t>(list: Node<'t>, name: &str, source: &[u8]) -> Option<Node<'t>> {
    let mut cursor = list.walk();
    for decl in list.named_children(&mut cursor) {
        let mut c2 = decl.walk();
        for n in decl.children_by_field_name("name", &mut c2) {
            if node_text(n, source) == name {
                return Some(n);
            }
        }
    }
    None
}

fn identifier_in<'t>(list: Node<'t>, name: &str, source: &[u8]) -> Option<Node<'t>> {
    let mut cursor = list.walk();
    list.named_children(&mut cursor)
        .find(|n| n.kind() == "identifier" && node_text(*n, source) == name)
}

fn has_define_token(node: Node<'_>) -> bool {
    let mut cursor = node.walk();
    node.children(&mut cursor).any(|c| c.kind() == ":=")
}

impl<'t> DeclarationCache<'t> {
    /// The last declaration of `name` by a statement of `block` that ends
    /// at or before `before`.
    fn last_before(
        &mut self,
        block: Node<'t>,
        name: &str,
        before: usize,
        source: &[u8],
    ) -> Option<Node<'t>> {
        let names = self.blocks.entry(block.id()).or_insert_with(|| {
            let mut names: HashMap<String, Vec<(usize, Node<'t>)>> = HashMap::new();
            let mut cursor = block.walk();
            for stmt in block.named_children(&mut cursor) {
                let end = stmt.end_byte();
                each_declared(stmt, source, &mut |n, node| {
                    let list = names.entry(n.to_string()).or_default();
                    // The first declaration of a name in one statement,
                    // as `statement_declares` finds it.
                    if list.last().is_none_or(|&(e, _)| e != end) {
                        list.push((end, node));
                    }
                });
            }
            names
        });
        let list = names.get(name)?;
        let i = list.partition_point(|&(end, _)| end <= before);
        i.checked_sub(1).map(|i| list[i].1)
    }
}

/// Calls `f` with every name `stmt` declares in its block, in order.
fn each_declared<'t>(stmt: Node<'t>, source: &[u8], f: &mut dyn FnMut(&str, Node<'t>)) {
    let mut identifiers = |list: Node<'t>| {
        let mut cursor = list.walk();
        for n in list.named_children(&mut cursor) {
            if n.kind() == "identifier" {
                f(node_text(n, source), n);
            }
        }
    };
    match stmt.kind() {
        "short_var_declaration" => {
            if let Some(l) = stmt.child_by_field_name("left") {
                identifiers(l);
            }
        }
        "range_clause" | "receive_statement" => {
            if has_define_token(stmt)
                && let Some(l) = stmt.child_by_field_name("left")
            {
                identifiers(l);
            }
        }
        "var_declaration" | "const_declaration" | "type_declaration" => {
            let mut cursor = stmt.walk();
            for spec in stmt.named_children(&mut cursor) {
                each_spec_name(spec, source, f);
            }
        }
        _ => {}
    }
}

fn each_spec_name<'t>(spec: Node<'t>, source: &[u8], f: &mut dyn FnMut(&str, Node<'t>)) {
    match spec.kind() {
        "var_spec" | "const_spec" | "type_spec" | "type_alias" => {
            let mut c = spec.walk();
            for n in spec.children_by_field_name("name", &mut c) {
                f(node_text(n, source), n);
            }
        }
        "var_spec_list" | "const_spec_list" | "type_spec_list" => {
            let mut c = spec.walk();
            for s in spec.named_children(&mut c) {
                each_spec_name(s, source, f);
            }
        }
        _ => {}
    }
}

fn statement_declares<'t>(stmt: Node<'t>, name: &str, source: &[u8]) -> Option<Node<'t>> {
    match stmt.kind() {
        "short_var_declaration" => stmt
            .child_by_field_name("left")
            .and_then(|l| identifier_in(l, name, source)),
        "range_clause" | "receive_statement" => {
            if !has_define_token(stmt) {
                return None;
            }
            stmt.child_by_field_name("left")
                .and_then(|l| identifier_in(l, name, source))
        }
        "var_declaration" | "const_declaration" | "type_declaration" => {
            let mut cursor = stmt.walk();
            for spec in stmt.named_children(&mut cursor) {
                if let Some(n) = spec_declares(spec, name, source) {
                    return Some(n);
                }
            }
            None
        }
        _ => None,
    }
}

// The `let` keeps the tree cursor alive until the result is computed.
#[allow(clippy::let_and_return)]
fn spec_declares<'t>(spec: Node<'t>, name: &str, source: &[u8]) -> Option<Node<'t>> {
    match spec.kind() {
        "var_spec" | "const_spec" | "type_spec" | "type_alias" => {
            let mut c = spec.walk();
            let found = spec
                .children_by_field_name("name", &mut c)
                .find(|n| node_text(*n, source) == name);
            found
        }
        "var_spec_list" | "const_spec_list" | "type_spec_list" => {
            let mut c = spec.walk();
            let found = spec
                .named_children(&mut c)
                .find_map(|s| spec_declares(s, name, source));
            found
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_run_from_the_root_to_the_parent() {
        let text = "package p\n\nfunc f() {\n\tif true {\n\t\tx := 1\n\t\t_ = x\n\t}\n}\n";
        let src = text.as_bytes();
        let tree = crate::parse_tree(src).expect("parses");
        let root = tree.root_node();
        let at = |needle: &str, offset: usize| {
            let start = text.find(needle).expect("needle") + offset;
            root.descendant_for_byte_range(start, start + 1)
                .expect("node")
        };
        let x = at("x :=", 0);
        assert_eq!(x.kind(), "identifier");
        let chain = ancestors(root, x);
        assert_eq!(chain.first().map(|n| n.kind()), Some("source_file"));
        // Each is the parent of the next, and the last is x's parent.
        for pair in chain.windows(2) {
            assert_eq!(pair[1].parent().map(|p| p.id()), Some(pair[0].id()));
        }
        assert_eq!(chain.last().map(|n| n.id()), x.parent().map(|p| p.id()));
        assert!(chain.iter().any(|n| n.kind() == "if_statement"));
        assert_eq!(
            enclosing_function(x, root).map(|f| f.kind()),
            Some("function_declaration")
        );
        assert!(ancestors(root, root).is_empty());
        // The use of x finds its declaration through the chain.
        let used = at("_ = x", 4);
        assert_eq!(
            local_declaration("x", used, root, src).map(|d| d.id()),
            Some(x.id())
        );
    }

    /// The cached resolution from a top-down walk finds exactly what
    /// `local_declaration` finds, for every identifier of a function with
    /// shadowing, redeclaration and nested scopes.
    #[test]
    fn cached_resolution_agrees_with_local_declaration() {
        let text = "package p\n\nfunc f(a int) {\n\tb := a\n\tvar c, d = b, a\n\tif a := c; a > 0 {\n\t\tb := d\n\t\t_ = b\n\t}\n\tfor i := range a {\n\t\ta, e := i, b\n\t\t_, _ = a, e\n\t}\n\tfunc() { c := 1; _ = c }()\n\t_, _ = b, c\n}\n";
        let src = text.as_bytes();
        let tree = crate::parse_tree(src).expect("parses");
        let root = tree.root_node();
        let mut cache = DeclarationCache::default();
        let mut cursor = root.walk();
        let mut path = Vec::new();
        let mut checked = 0;
        loop {
            let node = cursor.node();
            if node.kind() == "identifier" {
                let name = node_text(node, src);
                let plain = local_declaration(name, node, root, src).map(|d| d.id());
                let cached =
                    local_declaration_along(name, node, &path, src, &mut cache).map(|d| d.id());
                assert_eq!(plain, cached, "{name} at byte {}", node.start_byte());
                checked += 1;
            }
            if cursor.goto_first_child() {
                path.push(node);
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    assert!(checked > 20, "only {checked} identifiers");
                    return;
                }
                path.pop();
            }
        }
    }
}
