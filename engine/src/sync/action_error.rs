//! Why an admin's action on one entry (a retry, an approved delete, a preview) could not run.

use super::change::ApplyError;
use super::plan::PlanError;
use crate::ldap::LdapError;
use crate::rejection::RejectionStatus;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// What was asked for (`rejected operation`, `held delete`) does not exist.
    #[error("there is no {what} {id}")]
    NotFound { what: &'static str, id: String },
    #[error("rejected operation {0} is already {1}")]
    NotOpen(String, RejectionStatus),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("source: {0}")]
    Ldap(#[from] LdapError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<super::entry_ids::SettleError> for ActionError {
    fn from(e: super::entry_ids::SettleError) -> Self {
        match e {
            super::entry_ids::SettleError::Source(e) => ActionError::Ldap(e),
            super::entry_ids::SettleError::Store(e) => ActionError::Store(e),
        }
    }
}

impl From<ApplyError> for ActionError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Source(e) => ActionError::Ldap(e),
            ApplyError::Store(e) => ActionError::Store(e),
        }
    }
}
