use crate::{Context, Findings, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_diagnostics::Edit;
use redline_go::{Node, ancestors, unparen_type};

declare_rule! {
    /// ## What it does
    /// Finds `new(T)` where `T` is a map type: a literal map type, a
    /// parenthesised one, or a type of the same package whose underlying
    /// type is a map (`type PodIndex map[types.UID]*Pod; new(PodIndex)`).
    ///
    /// ## Why is this bad?
    /// `new` returns a pointer to a *nil* map. Reads work, so tests pass;
    /// the first write through the pointer panics with
    /// `assignment to entry in nil map` in production.
    ///
    /// Since Go 1.26 `new` also takes an expression (`new(int64(5))`,
    /// `new(map[K]V{})`): only a *type* operand is reported, so the
    /// non-nil `new(map[K]V{})` form is never flagged. A type parameter
    /// is never a map type, whatever its name or constraint
    /// (`func f[M ~map[K]V, K comparable, V any]() { new(M) }`).
    ///
    /// Not reported when the variable that receives the pointer is next
    /// used as the destination of a call that allocates the map through
    /// it: `json.Unmarshal(b, p)`, `yaml.Unmarshal`, `xml.Unmarshal`, a
    /// `Decode(p)` method, `in.DeepCopyInto(p)` (deepcopy-gen's idiom).
    ///
    /// ## Example
    /// ```go
    /// pods := new(map[types.UID]*Pod)
    /// (*pods)[pod.UID] = pod // panics
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// pods := make(map[types.UID]*Pod)
    /// pods[pod.UID] = pod
    /// ```
    ///
    /// ## Fix
    /// Safe and type-preserving: `new(T)` becomes `&T{}`, a pointer to an
    /// empty, non-nil map, parenthesised where Go's grammar needs it
    /// (`if p := (&T{}); …`, `(&T{}).Len()`). Use `make(T)` when no
    /// pointer is needed. A trailing comment that gofmt aligned with a
    /// longer line keeps its column; when the fixed line itself was the
    /// widest of such a block, `gofmt -w` realigns the block.
    pub struct NewMap {
        id: "RL101",
        name: "new-map",
        severity: Error,
        fix: Safe,
        kind: Go,
        finds: "`new(T)` with a map type yields a pointer to a nil map",
    }
}

impl GoRule for NewMap {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        // A package-level `func new` or local `new` is not the builtin.
        if cx.package.values.contains("new") {
            return;
        }
        let root = cx.file.tree.root_node();
        for &call in &cx.index.calls {
            // `new(T)`, and `(new)(T)`, the same builtin in parentheses.
            let Some(func) = call.child_by_field_name("function").map(unparen) else {
                continue;
            };
            if func.kind() != "identifier" || cx.text(func) != "new" {
                continue;
            }
            let Some(arg_list) = call.child_by_field_name("arguments") else {
                continue;
            };
            let operands = args(arg_list);
            let [operand] = operands.as_slice() else {
                continue;
            };
            if cx.index.is_local_binding("new", func) {
                continue;
            }
            let ty = unparen_type(*operand);
            let Some(named) = map_type_name(cx, ty) else {
                continue;
            };
            let chain = ancestors(root, call);
            if allocated_through_destination(cx, call, &chain) {
                continue;
            }
            let type_bytes = &cx.file.source[ty.byte_range()];
            let type_text = String::from_utf8_lossy(type_bytes);
            let message = match named {
                None => format!(
                    "`new({type_text})` returns a pointer to a nil map; the first write through it panics"
                ),
                Some(name) => format!(
                    "`new({type_text})` returns a pointer to a nil map (`{name}` is a map type); the first write through it panics"
                ),
            };
            // Go source is UTF-8: a type that is not cannot be written
            // back (the compiler rejects the file anyway); no fix.
            let Ok(type_text) = std::str::from_utf8(type_bytes) else {
                out.report(call, message).help(
                    "use `make(T)` for this map type, or `&T{}` when a pointer is needed (no automatic fix: the type's text is not valid UTF-8)",
                );
                continue;
            };
            let literal = format!("&{type_text}{{}}");
            let replacement = if needs_parentheses(call, ty, &chain) {
                format!("({literal})")
            } else {
                literal.clone()
            };
            let shrink = call.byte_range().len().saturating_sub(replacement.len());
            let mut edits = vec![Edit {
                span: cx.file.span(call),
                content: replacement,
            }];
            if let Some(at) = aligned_comment_after(cx, call, shrink) {
                edits.push(Edit {
                    span: cx.file.span_bytes(at, at),
                    content: " ".repeat(shrink),
                });
            }
            out.report(call, message)
                .help(format!(
                    "use `make({type_text})`, or `{literal}` when a pointer is needed"
                ))
                .fix_edits(edits);
        }
    }
}

/// Where to pad when the fix shortens a line whose trailing `//` comment
/// gofmt aligned with a longer line of its block (two or more spaces
/// before it): the comment's start, so that it keeps its column and the
/// block stays gofmt-clean. `None` when nothing is to be padded.
fn aligned_comment_after(cx: &Context<'_>, call: Node<'_>, shrink: usize) -> Option<usize> {
    let src = &cx.file.source[..];
    // A call over several lines changes the line count, not one width.
    if shrink == 0 || src[call.byte_range()].contains(&b'\n') {
        return None;
    }
    let end = call.end_byte();
    let line_end = src[end..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(src.len(), |i| end + i);
    let root = cx.file.tree.root_node();
    let mut at = end;
    while let Some(i) = src[at..line_end].windows(2).position(|w| w == b"//") {
        let start = at + i;
        let node = root.descendant_for_byte_range(start, start + 2)?;
        if node.kind() == "comment" && node.start_byte() == start {
            let spaces = src[..start]
                .iter()
                .rev()
                .take_while(|&&b| b == b' ')
                .count();
            // A comment that is the whole rest of a line after code, and
            // padded: the line is not the widest of its aligned block.
            let code_before = src[..start - spaces]
                .last()
                .is_some_and(|&b| b != b'\n' && b != b'\t');
            return (spaces >= 2 && code_before).then_some(start);
        }
        at = start + 2;
    }
    None
}

/// `Some(None)` for a literal map type, `Some(Some(name))` for a named map
/// type of this package, `None` otherwise.
fn map_type_name<'a>(cx: &Context<'a>, ty: Node<'_>) -> Option<Option<&'a str>> {
    match ty.kind() {
        "map_type" => Some(None),
        // `new(PodIndex)`: a type identifier, or (with Go 1.26 expressions)
        // an identifier; either way it must name a package map type that
        // no local declaration or type parameter shadows.
        "type_identifier" | "identifier" => {
            let name = cx.text(ty);
            (cx.package.is_map_type(name) && !shadowed(cx, name, ty)).then_some(Some(name))
        }
        "generic_type" => {
            let base = ty.child_by_field_name("type")?;
            let name = cx.text(base);
            (base.kind() == "type_identifier"
                && cx.package.is_map_type(name)
                && !shadowed(cx, name, base))
            .then_some(Some(name))
        }
        _ => None,
    }
}

/// Whether `name` at `at` is declared locally (a variable, a local type, a
/// parameter, a function's type parameter) or is a type parameter of the
/// enclosing method's receiver (`func (s Set[Index]) f()`): then it is not
/// the package's map type. A type parameter is never a map type, whatever
/// its constraint (`M ~map[K]V`): `new(M)` is a pointer to the zero value
/// of whatever type instantiates it.
fn shadowed(cx: &Context<'_>, name: &str, at: Node<'_>) -> bool {
    let root = cx.file.tree.root_node();
    // Not the index's fast path: it does not record type parameters.
    if redline_go::local_declaration(name, at, root, &cx.file.source).is_some() {
        return true;
    }
    ancestors(root, at)
        .iter()
        .filter(|n| n.kind() == "method_declaration")
        .filter_map(|m| m.child_by_field_name("receiver"))
        .any(|receiver| receiver_type_parameters(receiver, &cx.file.source).contains(&name))
}

/// The type parameter names a method's receiver binds: `Index` and `V` in
/// `func (s *Set[Index, V]) f()`.
fn receiver_type_parameters<'s>(receiver: Node<'_>, source: &'s [u8]) -> Vec<&'s str> {
    let mut names = Vec::new();
    let mut cursor = receiver.walk();
    for decl in receiver.named_children(&mut cursor) {
        let Some(mut ty) = decl.child_by_field_name("type") else {
            continue;
        };
        while matches!(ty.kind(), "pointer_type" | "parenthesized_type") {
            match ty.named_child(0) {
                Some(inner) => ty = inner,
                None => break,
            }
        }
        if ty.kind() != "generic_type" {
            continue;
        }
        let Some(type_args) = ty.child_by_field_name("type_arguments") else {
            continue;
        };
        let mut c = type_args.walk();
        for arg in type_args.named_children(&mut c) {
            // `type_elem` wraps the identifier in this grammar.
            let ident = if arg.kind() == "type_elem" {
                arg.named_child(0)
            } else {
                Some(arg)
            };
            if let Some(ident) = ident
                && ident.kind() == "type_identifier"
            {
                names.push(redline_go::node_text(ident, source));
            }
        }
    }
    names
}

/// Where `&T{}` cannot stand for a call expression as it is:
///
/// - as the operand of a selector, index, slice, call or type assertion
///   (`new(T).Len()` → `(&T{}).Len()`: `&T{}.Len()` applies `&` to the
///   call's result);
/// - in the header of an `if`, `for` or `switch` statement, outside any
///   parentheses, brackets or braces, when the literal's type is a type
///   name (`if p := new(T); …` → `if p := (&T{}); …`): Go's parser reads
///   the `{` as the start of the block. A map type literal
///   (`&map[K]V{}`) is not ambiguous, and gofmt would strip its
///   parentheses where they are redundant.
fn needs_parentheses(call: Node<'_>, ty: Node<'_>, chain: &[Node<'_>]) -> bool {
    let Some(&parent) = chain.last() else {
        return false;
    };
    let is_field = |field: &str| {
        parent
            .child_by_field_name(field)
            .is_some_and(|n| n.id() == call.id())
    };
    let operand = match parent.kind() {
        "selector_expression"
        | "type_assertion_expression"
        | "index_expression"
        | "slice_expression" => is_field("operand"),
        "call_expression" => is_field("function"),
        _ => false,
    };
    if operand {
        return true;
    }
    if ty.kind() == "map_type" {
        return false;
    }
    let mut child = call;
    for &node in chain.iter().rev() {
        match node.kind() {
            // Enclosed in (), [] or {}: the ambiguity is gone.
            "parenthesized_expression"
            | "argument_list"
            | "literal_value"
            | "block"
            | "func_literal"
            | "type_arguments" => return false,
            "index_expression" | "slice_expression"
                if node
                    .child_by_field_name("operand")
                    .is_none_or(|o| o.id() != child.id()) =>
            {
                return false;
            }
            "if_statement"
            | "for_statement"
            | "expression_switch_statement"
            | "type_switch_statement" => {
                // A case clause of a switch comes after its `{`.
                return !child.kind().ends_with("_case");
            }
            "source_file" | "function_declaration" | "method_declaration" => return false,
            _ => {}
        }
        child = node;
    }
    false
}

/// The v2 exemption: `p := new(T)` whose next use is as the destination of
/// a call that allocates the map through the pointer —
/// `json.Unmarshal(b, p)`, `yaml.Unmarshal`, `xml.Unmarshal`, a
/// `Decode(p)` method, `in.DeepCopyInto(p)` (deepcopy-gen's idiom).
fn allocated_through_destination(cx: &Context<'_>, call: Node<'_>, chain: &[Node<'_>]) -> bool {
    let Some(receiver) = receiving_variable(cx, call, chain) else {
        return false;
    };
    let Some(body) = chain
        .iter()
        .rev()
        .find(|n| {
            matches!(
                n.kind(),
                "function_declaration" | "method_declaration" | "func_literal"
            )
        })
        .and_then(|f| f.child_by_field_name("body"))
    else {
        return false;
    };
    let Some(next) = next_use(cx, body, receiver.name, receiver.statement.end_byte()) else {
        return false;
    };
    // The same variable, not another one of the same name declared since.
    let root = cx.file.tree.root_node();
    let declared_at = |n: Node<'_>| {
        redline_go::local_declaration(receiver.name, n, root, &cx.file.source).map(|d| d.id())
    };
    let binding = match receiver.declared {
        Some(ident) => Some(ident.id()),
        None => declared_at(call),
    };
    declared_at(next) == binding && is_allocating_destination(cx, next)
}

/// The variable a `new(T)` call is stored in.
struct Receiver<'t, 's> {
    name: &'s str,
    /// The `:=`, `var` or `=` statement.
    statement: Node<'t>,
    /// The declaring identifier (`:=`, `var`); `None` for `=`.
    declared: Option<Node<'t>>,
}

fn receiving_variable<'t, 's>(
    cx: &Context<'s>,
    call: Node<'t>,
    chain: &[Node<'t>],
) -> Option<Receiver<'t, 's>> {
    // The call, possibly parenthesised, is one value of an expression list.
    let mut value = call;
    let mut up = chain.iter().rev();
    let mut list = *up.next()?;
    while list.kind() == "parenthesized_expression" {
        value = list;
        list = *up.next()?;
    }
    if list.kind() != "expression_list" {
        return None;
    }
    let statement = *up.next()?;
    let position = args(list).iter().position(|n| n.id() == value.id())?;
    let (targets, declares): (Vec<Node<'t>>, bool) = match statement.kind() {
        "short_var_declaration" => (args(statement.child_by_field_name("left")?), true),
        "assignment_statement" => {
            let op = statement.child_by_field_name("operator")?;
            if cx.text(op) != "=" {
                return None;
            }
            (args(statement.child_by_field_name("left")?), false)
        }
        "var_spec" => {
            let mut c = statement.walk();
            let names: Vec<Node<'t>> = statement.children_by_field_name("name", &mut c).collect();
            (names, true)
        }
        _ => return None,
    };
    if statement
        .child_by_field_name("right")
        .is_some_and(|r| r.id() != list.id())
        || statement
            .child_by_field_name("value")
            .is_some_and(|r| r.id() != list.id())
    {
        return None;
    }
    let target = *targets.get(position)?;
    if target.kind() != "identifier" || cx.text(target) == "_" {
        return None;
    }
    // A `var` spec sits in a declaration: the statement is that.
    let statement = if statement.kind() == "var_spec" {
        chain
            .iter()
            .rev()
            .find(|n| n.kind() == "var_declaration")
            .copied()
            .unwrap_or(statement)
    } else {
        statement
    };
    Some(Receiver {
        name: cx.text(target),
        statement,
        declared: declares.then_some(target),
    })
}

/// The first identifier `name` in `body` that starts at or after `from`.
fn next_use<'t>(cx: &Context<'_>, body: Node<'t>, name: &str, from: usize) -> Option<Node<'t>> {
    let mut cursor = body.walk();
    loop {
        let node = cursor.node();
        if node.end_byte() > from {
            if node.start_byte() >= from && node.kind() == "identifier" && cx.text(node) == name {
                return Some(node);
            }
            if cursor.goto_first_child() {
                continue;
            }
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() || cursor.node().id() == body.id() {
                return None;
            }
        }
    }
}

/// Packages whose `Unmarshal(data, v)` allocates the maps `v` points at.
const UNMARSHAL_PACKAGES: &[&str] = &[
    "encoding/json",
    "encoding/xml",
    "sigs.k8s.io/yaml",
    "gopkg.in/yaml.v2",
    "gopkg.in/yaml.v3",
    "go.yaml.in/yaml/v2",
    "go.yaml.in/yaml/v3",
    "github.com/ghodss/yaml",
    "github.com/goccy/go-yaml",
    "github.com/goccy/go-json",
    "github.com/json-iterator/go",
    "k8s.io/apimachinery/pkg/util/yaml",
];

/// Whether `ident` is the destination argument of `json.Unmarshal(b, p)`
/// (and the other packages' `Unmarshal`), `x.Decode(p)` or
/// `in.DeepCopyInto(p)`.
fn is_allocating_destination(cx: &Context<'_>, ident: Node<'_>) -> bool {
    let chain = ancestors(cx.file.tree.root_node(), ident);
    let [.., call, arg_list] = chain.as_slice() else {
        return false;
    };
    let (call, arg_list) = (*call, *arg_list);
    if arg_list.kind() != "argument_list" {
        return false;
    }
    let Some(func) = call.child_by_field_name("function").map(unparen) else {
        return false;
    };
    if func.kind() != "selector_expression" {
        return false;
    }
    let Some(field) = func.child_by_field_name("field") else {
        return false;
    };
    let operands = args(arg_list);
    let at = |i: usize| operands.get(i).is_some_and(|n| n.id() == ident.id());
    match cx.text(field) {
        "Unmarshal" => {
            operands.len() == 2
                && at(1)
                && cx
                    .index
                    .resolve(func)
                    .is_some_and(|(path, _)| UNMARSHAL_PACKAGES.contains(&path))
        }
        "Decode" | "DeepCopyInto" => operands.len() == 1 && at(0),
        _ => false,
    }
}
