//! The LDAP side of a pipe: connecting to a sync source, reading its root DSE and
//! changelog head, resolving startpoints, and the console's "Test connection".

mod changelog_head;
mod connection;
mod entry_decode;
mod entry_ids;
mod probe;
mod root_dse;
mod tls;

pub use changelog_head::{ChangelogHead, read_changelog_head, resolve_startpoint};
pub use connection::{LdapConnection, PagedSearch, connect};
pub(crate) use entry_ids::id_search_bases;
pub use probe::{BaseDnCheck, LdapProbeReport, probe};
pub use root_dse::RootDse;

use crate::crypto::CryptoError;

#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    #[error("the bind password cannot be read: {0}")]
    Secret(#[from] CryptoError),
    #[error("CA file \"{path}\": {message}")]
    CaFile { path: String, message: String },
    #[error("no server of the source could be used: {}", .0.join("; "))]
    AllServersFailed(Vec<String>),
    #[error("{operation} failed: {message}")]
    Operation { operation: String, message: String },
    #[error("{0}")]
    Startpoint(String),
    #[error("\"{0}\" does not exist (or the bind DN may not see it)")]
    NoSuchObject(String),
    #[error("the server refuses \"{0}\" as a DN (invalidDNSyntax)")]
    InvalidDn(String),
}

impl LdapError {
    pub(crate) fn op(operation: impl Into<String>, e: impl std::fmt::Display) -> LdapError {
        LdapError::Operation {
            operation: operation.into(),
            message: e.to_string(),
        }
    }
}

/// "name (code): server text" for an LDAP result, as shown to admins.
pub(crate) fn describe_result(rc: u32, text: &str) -> String {
    if text.is_empty() {
        format!("{} ({rc})", result_code_name(rc))
    } else {
        format!("{} ({rc}): {text}", result_code_name(rc))
    }
}

/// Names of LDAP result codes an admin is likely to meet.
pub(crate) fn result_code_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        11 => "adminLimitExceeded",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        _ => "error",
    }
}
