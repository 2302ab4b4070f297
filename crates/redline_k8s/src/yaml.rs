//! Manifests are read by redline's one YAML/JSON loader, `redline_yaml`
//! (positions, the nesting limit, the alias budget, YAML as Kubernetes
//! reads it); this module keeps the names the manifest code uses. A YAML
//! node is a [`YamlNode`] here, so that beside a Go syntax tree's `Node`
//! (in the rules) the name says which one it is.

pub use redline_yaml::{
    Error as ParseError, Node as YamlNode, Pos, Stream, Tag, Value, decode, parse_stream,
};
