//! The red-line catalog.
