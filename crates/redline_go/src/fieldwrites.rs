//! Map elements written through a method's receiver (`r.cache[k] = v`,
//! `r.cache[k]++`, `delete(r.cache, k)`), so that rules can tell state a
//! type mutates from maps it only reads.

use crate::{GoFile, node_text};
use tree_sitter::Node;

/// One map element write through a receiver field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverMapWrite {
    /// The receiver's base type name.
    pub receiver_type: String,
    /// The method that writes.
    pub method: String,
    /// The receiver's field whose elements are written.
    pub field: String,
}

/// The receiver map writes in the methods of `file` whose receiver type
/// satisfies `wanted` (only those methods' bodies are walked).
pub fn receiver_map_writes(file: &GoFile, wanted: &dyn Fn(&str) -> bool) -> Vec<ReceiverMapWrite> {
    let src: &[u8] = &file.source;
    let mut out = Vec::new();
    let root = file.tree.root_node();
    let mut cursor = root.walk();
    for decl in root.named_children(&mut cursor) {
        if decl.kind() != "method_declaration" {
            continue;
        }
        let Some((recv_name, recv_type)) = receiver(decl, src) else {
            continue;
        };
        if !wanted(recv_type) {
            continue;
        }
        let (Some(name), Some(body)) = (
            decl.child_by_field_name("name"),
            decl.child_by_field_name("body"),
        ) else {
            continue;
        };
        let method = node_text(name, src);
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            let mut targets: Vec<Node<'_>> = Vec::new();
            match n.kind() {
                "assignment_statement" => {
                    if let Some(left) = n.child_by_field_name("left") {
                        let mut c = left.walk();
                        targets.extend(left.named_children(&mut c).filter_map(|l| {
                            let l = unparen(l);
                            (l.kind() == "index_expression")
                                .then(|| l.child_by_field_name("operand"))
                                .flatten()
                        }));
                    }
                }
                "inc_statement" | "dec_statement" => {
                    if let Some(o) = n.named_child(0).map(unparen)
                        && o.kind() == "index_expression"
                        && let Some(op) = o.child_by_field_name("operand")
                    {
                        targets.push(op);
                    }
                }
                "call_expression" => {
                    if n.child_by_field_name("function")
                        .is_some_and(|f| f.kind() == "identifier" && node_text(f, src) == "delete")
                        && let Some(a) = n.child_by_field_name("arguments")
                        && let Some(first) = a.named_child(0)
                    {
                        targets.push(first);
                    }
                }
                _ => {}
            }
            for t in targets {
                let t = unparen(t);
                if t.kind() == "selector_expression"
                    && let (Some(op), Some(field)) = (
                        t.child_by_field_name("operand"),
                        t.child_by_field_name("field"),
                    )
                    && op.kind() == "identifier"
                    && node_text(op, src) == recv_name
                {
                    out.push(ReceiverMapWrite {
                        receiver_type: recv_type.to_string(),
                        method: method.to_string(),
                        field: node_text(field, src).to_string(),
                    });
                }
            }
            let mut c = n.walk();
            for child in n.named_children(&mut c) {
                stack.push(child);
            }
        }
    }
    out
}

fn unparen(mut n: Node<'_>) -> Node<'_> {
    while n.kind() == "parenthesized_expression" {
        match n.named_child(0) {
            Some(inner) => n = inner,
            None => break,
        }
    }
    n
}

/// The receiver's name and base type name.
fn receiver<'a>(decl: Node<'_>, src: &'a [u8]) -> Option<(&'a str, &'a str)> {
    let param = decl.child_by_field_name("receiver")?.named_child(0)?;
    let name = node_text(param.child_by_field_name("name")?, src);
    let mut t = param.child_by_field_name("type")?;
    loop {
        match t.kind() {
            "pointer_type" | "parenthesized_type" => t = t.named_child(0)?,
            "generic_type" => t = t.child_by_field_name("type")?,
            _ => break,
        }
    }
    Some((name, node_text(t, src)))
}
