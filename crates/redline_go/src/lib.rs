//! Go source: discovery, parsing and the semantic model.
