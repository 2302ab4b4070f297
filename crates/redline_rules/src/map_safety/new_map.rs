use crate::{Context, DiagnosticExt, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_diagnostics::{Applicability, Diagnostic};
use redline_go::{Node, unparen_type};

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
    /// non-nil `new(map[K]V{})` form is never flagged.
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
    /// empty, non-nil map. Use `make(T)` when no pointer is needed.
    pub struct NewMap {
        id: "RL101",
        name: "new-map",
        severity: Error,
        fix: Some(Applicability::Safe),
        target: Go,
        summary: "`new(T)` with a map type yields a pointer to a nil map",
    }
}

impl GoRule for NewMap {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        // A package-level `func new` or local `new` is not the builtin.
        if cx.package.values.contains("new") {
            return;
        }
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
            let type_text = cx.text(ty);
            let message = match named {
                None => format!(
                    "`new({type_text})` returns a pointer to a nil map; the first write through it panics"
                ),
                Some(name) => format!(
                    "`new({type_text})` returns a pointer to a nil map (`{name}` is a map type); the first write through it panics"
                ),
            };
            out.push(
                cx.node_diagnostic(&Self::META, call, message)
                    .with_help(format!(
                        "use `make({type_text})`, or `&{type_text}{{}}` when a pointer is needed"
                    ))
                    .with_fix(
                        Applicability::Safe,
                        cx.file.span(call),
                        format!("&{type_text}{{}}"),
                    ),
            );
        }
    }
}

/// `Some(None)` for a literal map type, `Some(Some(name))` for a named map
/// type of this package, `None` otherwise.
fn map_type_name<'a>(cx: &Context<'a>, ty: Node<'_>) -> Option<Option<&'a str>> {
    match ty.kind() {
        "map_type" => Some(None),
        // `new(PodIndex)`: a type identifier, or (with Go 1.26 expressions)
        // an identifier; either way it must name a package map type that
        // no local declaration shadows.
        "type_identifier" | "identifier" => {
            let name = cx.text(ty);
            (cx.package.is_map_type(name) && !cx.index.is_local_binding(name, ty))
                .then_some(Some(name))
        }
        "generic_type" => {
            let base = ty.child_by_field_name("type")?;
            let name = cx.text(base);
            (base.kind() == "type_identifier"
                && cx.package.is_map_type(name)
                && !cx.index.is_local_binding(name, base))
            .then_some(Some(name))
        }
        _ => None,
    }
}
