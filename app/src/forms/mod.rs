//! Server-side form handling: which fields each object has, and converting between form
//! values and configuration objects.

pub mod convert;
pub mod probe_facts;
pub mod spec;
pub mod summary;
