//! Map safety: nil maps that panic on the first write.

pub mod new_map;
pub mod nil_map_write;
pub use new_map::NewMap;
pub use nil_map_write::NilMapWrite;
