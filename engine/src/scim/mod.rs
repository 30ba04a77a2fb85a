//! The SCIM 2.0 side of a pipe: an HTTP client with the configured authentication, retries
//! and rate limit; resource operations; and service discovery for "Test connection".

mod auth;
mod client;
mod destination;
mod discovery;
mod error;
mod rate;
mod resources;
mod retry_policy;

pub use client::ScimClient;
pub use destination::{Answer, Destination};
pub use discovery::{ResourceTypeInfo, ScimProbeReport, probe};
pub use error::{HttpFailure, ScimError};
pub use rate::RateLimiter;
pub use resources::SentRequest;
pub use retry_policy::RetryPolicy;
