//! The eleven setup steps: titles, what each is for, and which object kind it creates.

use crate::kind::ObjectKind;

pub struct Step {
    pub number: u8,
    pub title: &'static str,
    pub intro: &'static str,
    /// The kind of object created in this step, if any.
    pub kind: Option<ObjectKind>,
}

pub const STEPS: [Step; 11] = [
    Step {
        number: 1,
        title: "LDAP sync source",
        intro: "The directory changes are read from: its servers in failover order, the account scimsync binds with, \
                the subtrees to synchronize and the changelog the server keeps.",
        kind: Some(ObjectKind::LdapSource),
    },
    Step {
        number: 2,
        title: "Changelog password decryption key",
        intro: "Optional. A passphrase shared with the component of the directory that adds an encrypted copy \
                of each new password to its changelog record (ds-changelog-encrypted-password, in scimsync's \
                documented format); realtime sync decrypts it to send passwords. 389 DS's clear-text \
                unhashed#user#password needs no key. PingDirectory's own plugin format is not published and has \
                not been tried.",
        kind: None,
    },
    Step {
        number: 3,
        title: "SCIM 2.0 external server",
        intro: "The SCIM 2.0 service changes are written to: its base URL (without /Users), how requests are \
                authorized, certificate checks and timeouts.",
        kind: Some(ObjectKind::ScimServer),
    },
    Step {
        number: 4,
        title: "SCIM 2.0 attribute mappings",
        intro: "How each SCIM attribute is built from the LDAP entry. Eight syntaxes: String, Number, Boolean, \
                DateTime, Postal Address, Composed Complex, JSON-formatted Complex and Reference (DNs such as group \
                members or a manager, as the SCIM ids of the entries they name).",
        kind: Some(ObjectKind::AttributeMapping),
    },
    Step {
        number: 5,
        title: "Endpoint mappings",
        intro: "One per SCIM endpoint (/Users, /Groups): its schemas, the attribute mappings used with it, and the \
                search mappings that find the resource matching an LDAP entry.",
        kind: Some(ObjectKind::EndpointMapping),
    },
    Step {
        number: 6,
        title: "SCIM 2.0 sync destination",
        intro: "Ties the SCIM server to its endpoint mappings and chooses how resources are updated (PATCH or PUT) \
                and searched (GET or POST /.search).",
        kind: Some(ObjectKind::ScimDestination),
    },
    Step {
        number: 7,
        title: "Sync pipe",
        intro: "Joins one source to one destination, with its parallelism, rate limit and retry attempts.",
        kind: Some(ObjectKind::SyncPipe),
    },
    Step {
        number: 8,
        title: "Sync classes",
        intro: "Which entries of a pipe are synchronized and where they go: base DNs, an LDAP filter, the \
                evaluation order, and whether creates, modifies and deletes are applied.",
        kind: Some(ObjectKind::SyncClass),
    },
    Step {
        number: 9,
        title: "Realtime startpoint",
        intro: "Where realtime sync starts reading each pipe's changelog: its end (usual before an initial resync), \
                its beginning, a change number, or a time.",
        kind: None,
    },
    Step {
        number: 10,
        title: "Resync",
        intro: "The initial bulk synchronization of every in-scope entry into the SCIM service, with dry-run and a \
                rate limit.",
        kind: None,
    },
    Step {
        number: 11,
        title: "Start realtime sync",
        intro: "Apply changes from the changelog as they happen, from the startpoint on.",
        kind: None,
    },
];

/// Step `number` (1–11).
pub fn step(number: u8) -> Option<&'static Step> {
    STEPS.iter().find(|s| s.number == number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_created_in_the_step_it_names() {
        for (i, step) in STEPS.iter().enumerate() {
            assert_eq!(step.number as usize, i + 1);
            if let Some(kind) = step.kind {
                assert_eq!(kind.step(), step.number, "{kind:?}");
            }
        }
        for kind in ObjectKind::ALL {
            assert_eq!(step(kind.step()).unwrap().kind, Some(kind));
        }
    }
}
