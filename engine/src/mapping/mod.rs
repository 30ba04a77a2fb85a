//! Turning LDAP entries into SCIM 2.0 resources with the configured attribute mappings,
//! comparing them with what the SCIM service holds, and building the update.
//!
//! * [`values`] — one value between LDAP and SCIM syntax.
//! * [`resource`] — a whole entry → resource for one endpoint ([`EndpointMapper`]).
//! * [`diff`] — current resource vs wanted → PATCH operations or a PUT body.
//! * [`search`] — the filter that finds the existing resource.
//! * [`references`] — DN values → ids of the resources those entries became.
//! * [`correlation`] — search keys and compared-value digests for correlating from a listing.

pub mod correlation;
mod diff;
mod entry;
pub mod references;
mod resource;
mod search;
pub mod values;

pub use diff::{PatchOp, chunk_operations, patch_operations, put_body, reference_changes};
pub use entry::LdapEntry;
pub use resource::{EndpointMapper, MappedResource, MappingIssue, Phase, Purpose};
pub(crate) use search::quote;
pub use search::search_filter;
