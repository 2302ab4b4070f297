//! SLO specs are read by redline's one YAML/JSON loader, `redline_yaml`
//! (positions, the nesting limit, the alias budget, YAML as Kubernetes and
//! Sloth read it); this module keeps the names the spec code uses.

pub use redline_yaml::{Error as SyntaxError, Node, Pos, Value, parse};
