//! The per-package model: what the files of one Go package declare at the
//! top level, so rules can ask about types declared in another file.

use crate::{GoFile, node_text};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tree_sitter::Node;

/// The underlying kind of a declared type, as far as it is syntactically
/// known (a type defined as another named type is `Named`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    Map,
    Struct,
    Interface,
    Pointer,
    /// Defined from another named type of this package: `type A B`.
    Named(String),
    Other,
}

#[derive(Debug, Clone)]
pub struct StructField {
    /// Field name; for an embedded field, the type's name.
    pub name: String,
    /// The field's type as written.
    pub type_text: String,
    pub embedded: bool,
    /// Byte range of the field's declaration (name through type).
    pub start_byte: usize,
    pub end_byte: usize,
    /// Byte range of the field's name (or the embedded type).
    pub name_start: usize,
    pub name_end: usize,
}

#[derive(Debug, Clone)]
pub struct TypeDecl {
    pub name: String,
    pub kind: TypeKind,
    /// Index of the declaring file in the package's file list.
    pub file: usize,
    pub start_byte: usize,
    pub end_byte: usize,
    /// Fields, for struct types.
    pub fields: Vec<StructField>,
    /// Whether this is an alias (`type A = B`).
    pub alias: bool,
}

#[derive(Debug, Clone)]
pub struct MethodInfo {
    pub name: String,
    pub file: usize,
    pub start_byte: usize,
    pub end_byte: usize,
    /// The declared type of each parameter, as written.
    pub param_types: Vec<String>,
}

/// One Go package: the files of a directory sharing a package clause.
#[derive(Default)]
pub struct Package {
    pub name: String,
    pub types: HashMap<String, TypeDecl>,
    /// Methods by receiver base type name (pointer receivers included).
    pub methods: HashMap<String, Vec<MethodInfo>>,
    /// Names of package-level functions, variables and constants.
    pub values: std::collections::HashSet<String>,
    /// The package's files (cheap copies), in the order the `file`
    /// indices of [`TypeDecl`] and [`MethodInfo`] refer to: rules that
    /// follow a method or a call into another file read it here.
    pub files: Vec<GoFile>,
    memo: Memo,
}

impl std::fmt::Debug for Package {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Package")
            .field("name", &self.name)
            .field("types", &self.types)
            .field("methods", &self.methods)
            .field("values", &self.values)
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

/// Facts computed once per package and shared by every file's check
/// (the driver checks the files of a package in parallel).
#[derive(Default)]
struct Memo {
    slots: Mutex<HashMap<TypeId, Arc<Slot>>>,
}

/// One memoised value, built once.
type Slot = OnceLock<Arc<dyn Any + Send + Sync>>;

impl Package {
    /// Builds the model from the package's parsed files (in a fixed order:
    /// `file` indices refer to this slice).
    pub fn build(files: &[&GoFile]) -> Package {
        let mut pkg = Package {
            name: files
                .first()
                .map(|f| f.package_name.clone())
                .unwrap_or_default(),
            files: files.iter().map(|f| (*f).clone()).collect(),
            ..Default::default()
        };
        for (fi, file) in files.iter().enumerate() {
            let root = file.tree.root_node();
            let mut cursor = root.walk();
            for decl in root.named_children(&mut cursor) {
                match decl.kind() {
                    "type_declaration" => {
                        let mut c = decl.walk();
                        for spec in decl.named_children(&mut c) {
                            add_type_spec(&mut pkg, spec, fi, &file.source);
                        }
                    }
                    "method_declaration" => add_method(&mut pkg, decl, fi, &file.source),
                    "function_declaration" => {
                        if let Some(n) = decl.child_by_field_name("name") {
                            pkg.values.insert(node_text(n, &file.source).to_string());
                        }
                    }
                    "var_declaration" | "const_declaration" => {
                        collect_value_names(decl, &file.source, &mut pkg.values);
                    }
                    _ => {}
                }
            }
        }
        pkg
    }

    /// Whether `name` is a type of this package whose underlying type is a
    /// map (following `type A B` chains within the package).
    pub fn is_map_type(&self, name: &str) -> bool {
        let mut current = name;
        for _ in 0..16 {
            match self.types.get(current).map(|t| &t.kind) {
                Some(TypeKind::Map) => return true,
                Some(TypeKind::Named(next)) => current = next,
                _ => return false,
            }
        }
        false
    }

    /// Whether a type written as `text` (in this package) is a map type:
    /// a map literal type, parenthesised, or a named map type.
    pub fn is_map_type_text(&self, text: &str) -> bool {
        let t = text.trim();
        let t = t.trim_start_matches('(').trim_end_matches(')').trim();
        t.starts_with("map[") || self.is_map_type(t)
    }

    /// The facts of type `T` about this package, computed by `build` the
    /// first time any file asks and shared afterwards. A rule that needs
    /// to look at the whole package (the callers of a method, the helpers
    /// a function calls) keys its facts by its own type, so the package is
    /// analysed once, not once per file.
    /// (`None` cannot happen: the slot is keyed by `T`'s own type id.)
    pub fn memo<T: Any + Send + Sync>(&self, build: impl FnOnce(&Package) -> T) -> Option<Arc<T>> {
        let slot = {
            let mut slots = self
                .memo
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            slots.entry(TypeId::of::<T>()).or_default().clone()
        };
        let value = slot.get_or_init(|| Arc::new(build(self)) as Arc<dyn Any + Send + Sync>);
        value.clone().downcast::<T>().ok()
    }

    /// The declaration node of a method (as listed in [`Package::methods`]).
    pub fn method_node(&self, m: &MethodInfo) -> Option<Node<'_>> {
        let file = self.files.get(m.file)?;
        file.tree
            .root_node()
            .descendant_for_byte_range(m.start_byte, m.end_byte)
            .filter(|n| n.kind() == "method_declaration")
    }

    pub fn methods_of(&self, type_name: &str) -> &[MethodInfo] {
        self.methods
            .get(type_name)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

fn add_type_spec(pkg: &mut Package, spec: Node<'_>, file: usize, src: &[u8]) {
    match spec.kind() {
        "type_spec" | "type_alias" => {}
        "type_spec_list" => {
            let mut c = spec.walk();
            for s in spec.named_children(&mut c) {
                add_type_spec(pkg, s, file, src);
            }
            return;
        }
        _ => return,
    }
    let (Some(name), Some(ty)) = (
        spec.child_by_field_name("name"),
        spec.child_by_field_name("type"),
    ) else {
        return;
    };
    let ty = unparen_type(ty);
    let kind = match ty.kind() {
        "map_type" => TypeKind::Map,
        "struct_type" => TypeKind::Struct,
        "interface_type" => TypeKind::Interface,
        "pointer_type" => TypeKind::Pointer,
        "type_identifier" => TypeKind::Named(node_text(ty, src).to_string()),
        _ => TypeKind::Other,
    };
    let fields = if ty.kind() == "struct_type" {
        struct_fields(ty, src)
    } else {
        Vec::new()
    };
    let name = node_text(name, src).to_string();
    pkg.types.insert(
        name.clone(),
        TypeDecl {
            name,
            kind,
            file,
            start_byte: spec.start_byte(),
            end_byte: spec.end_byte(),
            fields,
            alias: spec.kind() == "type_alias",
        },
    );
}

/// Strips parentheses around a type node.
pub fn unparen_type(mut ty: Node<'_>) -> Node<'_> {
    while ty.kind() == "parenthesized_type" {
        match ty.named_child(0) {
            Some(inner) => ty = inner,
            None => break,
        }
    }
    ty
}

/// The fields of a `struct_type` node, in order.
pub fn struct_fields(struct_type: Node<'_>, src: &[u8]) -> Vec<StructField> {
    let mut out = Vec::new();
    let Some(list) = struct_type
        .named_child(0)
        .filter(|n| n.kind() == "field_declaration_list")
    else {
        return out;
    };
    let mut c = list.walk();
    for decl in list.named_children(&mut c) {
        if decl.kind() != "field_declaration" {
            continue;
        }
        let Some(ty) = decl.child_by_field_name("type") else {
            continue;
        };
        let type_text = node_text(ty, src).to_string();
        let mut c2 = decl.walk();
        let names: Vec<Node<'_>> = decl.children_by_field_name("name", &mut c2).collect();
        if names.is_empty() {
            let base = type_text.trim_start_matches('*');
            let base = base.rsplit('.').next().unwrap_or(base).to_string();
            out.push(StructField {
                name: base,
                type_text,
                embedded: true,
                start_byte: decl.start_byte(),
                end_byte: decl.end_byte(),
                name_start: ty.start_byte(),
                name_end: ty.end_byte(),
            });
        } else {
            for n in names {
                out.push(StructField {
                    name: node_text(n, src).to_string(),
                    type_text: type_text.clone(),
                    embedded: false,
                    start_byte: decl.start_byte(),
                    end_byte: decl.end_byte(),
                    name_start: n.start_byte(),
                    name_end: n.end_byte(),
                });
            }
        }
    }
    out
}

fn add_method(pkg: &mut Package, decl: Node<'_>, file: usize, src: &[u8]) {
    let Some(receiver) = decl.child_by_field_name("receiver") else {
        return;
    };
    let Some(name) = decl.child_by_field_name("name") else {
        return;
    };
    let Some(recv_type) = receiver
        .named_child(0)
        .and_then(|p| p.child_by_field_name("type"))
    else {
        return;
    };
    let mut t = recv_type;
    loop {
        match t.kind() {
            "pointer_type" | "parenthesized_type" => match t.named_child(0) {
                Some(inner) => t = inner,
                None => return,
            },
            "generic_type" => match t.child_by_field_name("type") {
                Some(inner) => t = inner,
                None => return,
            },
            _ => break,
        }
    }
    let recv_name = node_text(t, src).to_string();
    let mut param_types = Vec::new();
    if let Some(params) = decl.child_by_field_name("parameters") {
        let mut c = params.walk();
        for p in params.named_children(&mut c) {
            if let Some(ty) = p.child_by_field_name("type") {
                let mut c2 = p.walk();
                let count = p.children_by_field_name("name", &mut c2).count().max(1);
                for _ in 0..count {
                    param_types.push(node_text(ty, src).to_string());
                }
            }
        }
    }
    pkg.methods.entry(recv_name).or_default().push(MethodInfo {
        name: node_text(name, src).to_string(),
        file,
        start_byte: decl.start_byte(),
        end_byte: decl.end_byte(),
        param_types,
    });
}

fn collect_value_names(node: Node<'_>, src: &[u8], out: &mut std::collections::HashSet<String>) {
    let mut c = node.walk();
    for child in node.named_children(&mut c) {
        match child.kind() {
            "var_spec" | "const_spec" => {
                let mut c2 = child.walk();
                for n in child.children_by_field_name("name", &mut c2) {
                    out.insert(node_text(n, src).to_string());
                }
            }
            "var_spec_list" | "const_spec_list" => collect_value_names(child, src, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn file(name: &str, src: &str) -> GoFile {
        GoFile::parse(PathBuf::from(name), name.into(), Arc::from(src.as_bytes())).expect("parses")
    }

    /// Facts are built once per package and type, whoever asks; methods
    /// are found in the file that declares them.
    #[test]
    fn memo_builds_once_and_methods_resolve_across_files() {
        let a = file("a.go", "package p\n\ntype R struct{ m map[string]int }\n");
        let b = file(
            "b.go",
            "package p\n\nfunc (r *R) Reconcile() { r.m[\"k\"] = 1 }\n",
        );
        let pkg = Package::build(&[&a, &b]);
        let builds = AtomicUsize::new(0);
        struct Facts(usize);
        for _ in 0..3 {
            let f = pkg.memo(|p| {
                builds.fetch_add(1, Ordering::SeqCst);
                Facts(p.files.len())
            });
            assert_eq!(f.map(|f| f.0), Some(2));
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        let m = &pkg.methods_of("R")[0];
        let node = pkg.method_node(m).expect("method node");
        assert_eq!(m.file, 1);
        assert!(node_text(node, &pkg.files[1].source).starts_with("func (r *R) Reconcile"));
    }
}
