//! Which declaration a local name refers to. [`crate::NodeIndex::is_local_binding`]
//! answers "is it local?"; rules that need the declaration itself (its type,
//! its initial value, which function declared it) ask [`local_declaration`].

use crate::node_text;
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
    let mut child = at;
    for &parent in ancestors(root, at).iter().rev() {
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
}
