//! Helpers shared by the integration tests.

#![allow(dead_code)]

use tree_sitter::{Node, Parser, Tree};

pub fn ours() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&redline_go_grammar::language())
        .expect("load redline_go_grammar");
    parser
}

pub fn upstream() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_go::LANGUAGE.into())
        .expect("load tree-sitter-go");
    parser
}

pub fn parse(parser: &mut Parser, src: &str) -> Tree {
    parser.parse(src, None).expect("parse returned no tree")
}

/// Every node of the tree, in document order.
pub fn nodes(tree: &Tree) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut cursor = tree.walk();
    'outer: loop {
        out.push(cursor.node());
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'outer;
            }
        }
    }
    out
}

/// `line:col kind` of every ERROR or MISSING node, empty when the parse is clean.
pub fn problems(tree: &Tree, src: &str) -> Vec<String> {
    nodes(tree)
        .into_iter()
        .filter(|n| n.is_error() || n.is_missing())
        .map(|n| {
            let p = n.start_position();
            let line = src.lines().nth(p.row).unwrap_or("").trim();
            let what = if n.is_missing() {
                format!("MISSING {}", n.kind())
            } else {
                "ERROR".to_string()
            };
            format!("{}:{} {what}: {line}", p.row + 1, p.column + 1)
        })
        .collect()
}

/// For every call of the builtin `new`: the text and kind of its operand
/// (the first named child of its `argument_list`).
pub fn new_operands<'t>(tree: &'t Tree, src: &'t str) -> Vec<(&'t str, &'t str)> {
    nodes(tree)
        .into_iter()
        .filter(|n| n.kind() == "call_expression")
        .filter(|n| {
            n.child_by_field_name("function")
                .is_some_and(|f| f.kind() == "identifier" && &src[f.byte_range()] == "new")
        })
        .map(|call| {
            let args = call
                .child_by_field_name("arguments")
                .expect("call_expression without arguments");
            assert_eq!(args.kind(), "argument_list", "{}", call.to_sexp());
            let operand = args
                .named_child(0)
                .unwrap_or_else(|| panic!("new() without operand: {}", call.to_sexp()));
            (&src[operand.byte_range()], operand.kind())
        })
        .collect()
}
