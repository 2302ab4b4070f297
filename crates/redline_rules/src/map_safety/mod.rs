//! Map safety: nil maps that panic on the first write.

pub mod new_map;
pub use new_map::NewMap;
