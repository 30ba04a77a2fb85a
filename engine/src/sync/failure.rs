//! A step that did not work: the rejection to keep, and whether it is worth retrying (the
//! destination or the source was down) or was refused.

use super::outcome::EntryOutcome;
use crate::mapping::{LdapEntry, Phase};
use crate::rejection::{FailedStep, Rejection};
use crate::scim::{ScimError, SentRequest};

/// A step that did not work: the rejection to keep, and whether the destination (or source)
/// was down or throttling.
pub(crate) struct Failure {
    rejection: Rejection,
    outage: bool,
    throttled: bool,
}

impl Failure {
    /// Keeps the request that was sent for `entry` with the rejection.
    pub(crate) fn with_request(
        mut self,
        request: Option<SentRequest>,
        entry: &LdapEntry,
    ) -> Failure {
        self.rejection = self.rejection.with_exchange(request, None, entry);
        self
    }

    /// Says what was being done when it failed, before the reason.
    pub(crate) fn while_doing(mut self, doing: &str) -> Failure {
        self.rejection.reason = format!("{doing}: {}", self.rejection.reason);
        self
    }

    pub(crate) fn into_outcome(self) -> EntryOutcome {
        let rejection = Box::new(self.rejection);
        if self.outage {
            EntryOutcome::Unavailable {
                rejection,
                throttled: self.throttled,
            }
        } else {
            EntryOutcome::Rejected { rejection }
        }
    }
}

/// Builds failures for one entry in one phase.
pub(crate) struct Fail<'a> {
    pub pipe: &'a str,
    pub phase: Phase,
    pub entry: &'a LdapEntry,
}

impl Fail<'_> {
    pub(crate) fn rejected(&self, operation: FailedStep, reason: String) -> Failure {
        Failure {
            rejection: Rejection::new(self.pipe, self.phase, self.entry, operation, reason),
            outage: false,
            throttled: false,
        }
    }

    /// The source could not be read: like a destination outage, worth retrying.
    pub(crate) fn source_down(&self, operation: FailedStep, reason: String) -> Failure {
        Failure {
            outage: true,
            ..self.rejected(operation, reason)
        }
    }

    pub(crate) fn scim(
        &self,
        operation: FailedStep,
        error: &ScimError,
        request: Option<SentRequest>,
    ) -> Failure {
        let rejection = Rejection::new(
            self.pipe,
            self.phase,
            self.entry,
            operation,
            error.to_string(),
        )
        .with_exchange(request, Some(error), self.entry);
        Failure {
            rejection,
            outage: error.is_transient(),
            throttled: error.is_throttled(),
        }
    }
}
