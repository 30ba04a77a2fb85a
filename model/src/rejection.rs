//! The words a rejected operation is described with: when it was rejected, which step of
//! applying the entry failed, and what has become of it since.

identifiers! {
    /// Whether an entry is being synchronised by resync or by realtime sync.
    Phase {
        Resync = "resync",
        Realtime = "realtime",
    }
}

identifiers! {
    /// The step of applying an entry that failed.
    FailedStep {
        /// Reading the entry, or an entry it references, from the source.
        Read = "read",
        /// Building the SCIM resource (or the search filter) from the entry.
        Map = "map",
        /// Decrypting a password the changelog carried.
        DecryptPassword = "decrypt-password",
        /// Looking for the entry's resource at the destination.
        Search = "search",
        Create = "create",
        Modify = "modify",
        Delete = "delete",
    }
}

identifiers! {
    /// What has become of a rejected operation.
    RejectionStatus {
        /// Waiting for an admin (or for the entry to synchronise).
        Open = "open",
        /// The entry synchronised since (a retry, a later change or a resync).
        Resolved = "resolved",
        /// An admin chose not to apply it.
        Dismissed = "dismissed",
        /// A later rejection of the same entry replaced it.
        Superseded = "superseded",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[test]
    fn identifiers_are_what_serde_writes_and_parse_reads() {
        fn check<T: Copy + PartialEq + std::fmt::Debug + Serialize>(
            all: &[T],
            text: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), text(v));
                assert_eq!(parse(text(v)), Some(v));
            }
        }
        check(Phase::ALL, Phase::as_str, Phase::parse);
        check(FailedStep::ALL, FailedStep::as_str, FailedStep::parse);
        check(
            RejectionStatus::ALL,
            RejectionStatus::as_str,
            RejectionStatus::parse,
        );
        assert_eq!(FailedStep::DecryptPassword.to_string(), "decrypt-password");
        assert_eq!(Phase::parse("nope"), None);
    }
}
