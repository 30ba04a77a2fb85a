//! scimsync engine: everything that is not UI.
//!
//! * [`config`] — the typed model of the eleven setup steps and its validation.
//! * [`store`] — where that model (and runtime state) lives: SQLite or PostgreSQL.
//! * [`crypto`] — sealing secrets with the instance key file.
//! * [`dn`], [`ldap_filter`] — LDAP syntaxes the model refers to.
//! * [`entry_id`] — which attribute identifies a source's entries across renames.
//! * [`sensitive`] — which attributes and values are secret: masked when kept, hashes never sent.
//! * [`ldap`], [`scim`] — clients for the two sides of a sync pipe.
//! * [`mapping`] — LDAP entries → SCIM resources, and the updates that bring a resource in line.
//! * [`startpoint`] — where realtime sync starts reading the changelog.
//! * [`rejection`] — what is kept about an operation that could not be applied.
//! * [`report`] — counts and states of resyncs and realtime pipes.
//! * [`sync`] — applying entries to the SCIM destination: resync now, realtime next.
#![forbid(unsafe_code)]

/// Every program that runs the engine (the server, the benchmarks, the tests) allocates with
/// mimalloc: a resync allocates for every entry on several threads at once, where glibc's
/// allocator cost a fifth of the engine's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod changelog;
pub mod config;
pub mod crypto;
pub mod dn;
pub mod entry_id;
pub mod ldap;
pub mod ldap_filter;
pub mod mapping;
pub mod metrics;
pub mod rejection;
pub mod report;
pub mod scim;
pub mod sensitive;
pub mod source;
pub mod startpoint;
pub mod store;
pub mod sync;
