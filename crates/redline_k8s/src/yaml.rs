//! Manifests are read by redline's one YAML/JSON loader, `redline_yaml`
//! (positions, the nesting limit, the alias budget, YAML as Kubernetes
//! reads it); this module keeps the names the manifest code uses.

pub use redline_yaml::{Error as ParseError, Node, Pos, Stream, Tag, Value, decode, parse_stream};
