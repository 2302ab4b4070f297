//! tree-sitter-go extended to the Go 1.26 language.
