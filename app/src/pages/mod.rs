//! One module per route.

pub mod audit;
pub mod edit;
pub mod endpoint_graph;
pub mod held_deletes;
pub mod not_found;
pub mod overview;
pub mod preview;
pub mod realtime;
pub mod rejections;
pub mod resync;
pub mod startpoint;
pub mod step;
pub mod sync_log;
