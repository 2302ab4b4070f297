//! Lexical scoping, as far as rules need it: is a name bound by a local
//! declaration at a given point? Go's scopes are lexical, so walking up
//! from the use and looking at what each enclosing scope declared before
//! it is exact for locals.

use crate::node_text;
use tree_sitter::Node;

/// Whether `name` is declared by a local scope enclosing `at`, before `at`.
pub(crate) fn declared_before(name: &str, at: Node<'_>, root: Node<'_>, source: &[u8]) -> bool {
    let mut child = at;
    for &parent in crate::resolve::ancestors(root, at).iter().rev() {
        match parent.kind() {
            "function_declaration" | "method_declaration" | "func_literal" => {
                for field in ["receiver", "parameters", "result", "type_parameters"] {
                    if let Some(list) = parent.child_by_field_name(field)
                        && list_declares(list, name, source)
                    {
                        return true;
                    }
                }
            }
            "block" | "statement_list" | "expression_case" | "default_case" | "type_case"
            | "communication_case" => {
                let mut cursor = parent.walk();
                for stmt in parent.named_children(&mut cursor) {
                    if stmt.end_byte() > child.start_byte() {
                        break;
                    }
                    if statement_declares(stmt, name, source) {
                        return true;
                    }
                }
                if parent.kind() == "communication_case"
                    && let Some(comm) = parent.child_by_field_name("communication")
                    && comm.id() != child.id()
                    && comm.kind() == "receive_statement"
                    && statement_declares(comm, name, source)
                {
                    return true;
                }
            }
            "if_statement" | "expression_switch_statement" | "type_switch_statement" => {
                if let Some(init) = parent.child_by_field_name("initializer")
                    && init.id() != child.id()
                    && statement_declares(init, name, source)
                {
                    return true;
                }
                if parent.kind() == "type_switch_statement"
                    && let Some(alias) = parent.child_by_field_name("alias")
                    && alias.id() != child.id()
                    && child.start_byte() >= alias.end_byte()
                    && identifiers_include(alias, name, source)
                {
                    return true;
                }
            }
            "for_statement" => {
                let mut cursor = parent.walk();
                for part in parent.named_children(&mut cursor) {
                    if part.id() == child.id() {
                        continue;
                    }
                    match part.kind() {
                        "for_clause" => {
                            if let Some(init) = part.child_by_field_name("initializer")
                                && statement_declares(init, name, source)
                            {
                                return true;
                            }
                        }
                        "range_clause" if statement_declares(part, name, source) => {
                            return true;
                        }
                        _ => {}
                    }
                }
            }
            "for_clause" => {
                if let Some(init) = parent.child_by_field_name("initializer")
                    && init.id() != child.id()
                    && statement_declares(init, name, source)
                {
                    return true;
                }
            }
            "source_file" => return false,
            _ => {}
        }
        child = parent;
    }
    false
}

fn list_declares(list: Node<'_>, name: &str, source: &[u8]) -> bool {
    let mut cursor = list.walk();
    for decl in list.named_children(&mut cursor) {
        let mut c2 = decl.walk();
        for n in decl.children_by_field_name("name", &mut c2) {
            if node_text(n, source) == name {
                return true;
            }
        }
    }
    false
}

fn identifiers_include(list: Node<'_>, name: &str, source: &[u8]) -> bool {
    let mut cursor = list.walk();
    list.named_children(&mut cursor)
        .any(|n| n.kind() == "identifier" && node_text(n, source) == name)
}

fn has_define_token(node: Node<'_>) -> bool {
    let mut cursor = node.walk();
    node.children(&mut cursor).any(|c| c.kind() == ":=")
}

/// Whether a statement introduces `name` into the enclosing scope.
fn statement_declares(stmt: Node<'_>, name: &str, source: &[u8]) -> bool {
    match stmt.kind() {
        "short_var_declaration" => stmt
            .child_by_field_name("left")
            .is_some_and(|l| identifiers_include(l, name, source)),
        "range_clause" | "receive_statement" => {
            has_define_token(stmt)
                && stmt
                    .child_by_field_name("left")
                    .is_some_and(|l| identifiers_include(l, name, source))
        }
        "var_declaration" | "const_declaration" | "type_declaration" => {
            let mut cursor = stmt.walk();
            for spec in stmt.named_children(&mut cursor) {
                if spec_declares(spec, name, source) {
                    return true;
                }
            }
            false
        }
        "labeled_statement" => false,
        _ => false,
    }
}

fn spec_declares(spec: Node<'_>, name: &str, source: &[u8]) -> bool {
    match spec.kind() {
        "var_spec" | "const_spec" | "type_spec" | "type_alias" => {
            let mut c = spec.walk();
            spec.children_by_field_name("name", &mut c)
                .any(|n| node_text(n, source) == name)
        }
        "var_spec_list" | "const_spec_list" | "type_spec_list" => {
            let mut c = spec.walk();
            spec.named_children(&mut c)
                .any(|s| spec_declares(s, name, source))
        }
        _ => false,
    }
}
