//! The SCIM 2.0 side of a pipe: an HTTP client with the configured authentication, and
//! service discovery for the console's "Test connection".

mod auth;
mod client;
mod discovery;

pub use client::{ScimClient, ScimError};
pub use discovery::{ResourceTypeInfo, ScimProbeReport, probe};
