//! The seven kinds of named configuration objects and the setup step each belongs to.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    LdapSource,
    ScimServer,
    AttributeMapping,
    EndpointMapping,
    ScimDestination,
    SyncPipe,
    SyncClass,
}

impl ObjectKind {
    /// In setup-step order.
    pub const ALL: [ObjectKind; 7] = [
        ObjectKind::LdapSource,
        ObjectKind::ScimServer,
        ObjectKind::AttributeMapping,
        ObjectKind::EndpointMapping,
        ObjectKind::ScimDestination,
        ObjectKind::SyncPipe,
        ObjectKind::SyncClass,
    ];

    /// Stable identifier used in URLs, the store and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::LdapSource => "ldap-source",
            ObjectKind::ScimServer => "scim-server",
            ObjectKind::AttributeMapping => "attribute-mapping",
            ObjectKind::EndpointMapping => "endpoint-mapping",
            ObjectKind::ScimDestination => "scim-destination",
            ObjectKind::SyncPipe => "sync-pipe",
            ObjectKind::SyncClass => "sync-class",
        }
    }

    pub fn parse(text: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// What an admin calls it.
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::LdapSource => "LDAP sync source",
            ObjectKind::ScimServer => "SCIM 2.0 external server",
            ObjectKind::AttributeMapping => "SCIM 2.0 attribute mapping",
            ObjectKind::EndpointMapping => "SCIM 2.0 endpoint mapping",
            ObjectKind::ScimDestination => "SCIM 2.0 sync destination",
            ObjectKind::SyncPipe => "sync pipe",
            ObjectKind::SyncClass => "sync class",
        }
    }

    /// The setup step (1–11) in which objects of this kind are created.
    pub fn step(self) -> u8 {
        match self {
            ObjectKind::LdapSource => 1,
            ObjectKind::ScimServer => 3,
            ObjectKind::AttributeMapping => 4,
            ObjectKind::EndpointMapping => 5,
            ObjectKind::ScimDestination => 6,
            ObjectKind::SyncPipe => 7,
            ObjectKind::SyncClass => 8,
        }
    }
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip_and_match_serde() {
        for k in ObjectKind::ALL {
            assert_eq!(ObjectKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(ObjectKind::parse("nope"), None);
    }
}
