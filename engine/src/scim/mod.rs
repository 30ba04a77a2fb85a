//! The SCIM 2.0 side of a pipe: an HTTP client with the configured authentication, retries
//! and rate limit; resource operations; Bulk requests; and service discovery for "Test connection".

mod auth;
mod bulk;
mod bulk_writer;
mod client;
mod destination;
mod discovery;
mod error;
mod rate;
mod resources;
mod retry_policy;

pub use bulk::{BulkLimits, Write, WriteResult};
pub use bulk_writer::BulkWriter;
pub use client::ScimClient;
pub use destination::{Answer, Destination, WritePath};
pub use discovery::{ResourceTypeInfo, ScimProbeReport, probe};
pub use error::{HttpFailure, ScimError};
pub use rate::RateLimiter;
pub use resources::{ListPage, SentRequest};
pub use retry_policy::RetryPolicy;
