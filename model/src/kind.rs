//! The seven kinds of named configuration objects, the setup step each belongs to, and what a
//! console form edits (an object, or the global settings).

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
    /// One of them, in a sentence: "New attribute mapping".
    pub fn singular(self) -> &'static str {
        match self {
            ObjectKind::AttributeMapping => "attribute mapping",
            ObjectKind::EndpointMapping => "endpoint mapping",
            other => other.label(),
        }
    }

    /// Several of them: "Attribute mappings".
    pub fn plural(self) -> &'static str {
        match self {
            ObjectKind::LdapSource => "LDAP sync sources",
            ObjectKind::ScimServer => "SCIM 2.0 external servers",
            ObjectKind::AttributeMapping => "attribute mappings",
            ObjectKind::EndpointMapping => "endpoint mappings",
            ObjectKind::ScimDestination => "SCIM 2.0 sync destinations",
            ObjectKind::SyncPipe => "sync pipes",
            ObjectKind::SyncClass => "sync classes",
        }
    }
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// What a console form edits: an object of a kind, or the global settings (step 2). Written
/// as the kind's identifier, or `global-settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum FormKind {
    Object(ObjectKind),
    GlobalSettings,
}

impl FormKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FormKind::Object(kind) => kind.as_str(),
            FormKind::GlobalSettings => "global-settings",
        }
    }

    pub fn parse(text: &str) -> Option<FormKind> {
        match text {
            "global-settings" => Some(FormKind::GlobalSettings),
            _ => ObjectKind::parse(text).map(FormKind::Object),
        }
    }

    /// The object kind, unless it is the global settings.
    pub fn object(self) -> Option<ObjectKind> {
        match self {
            FormKind::Object(kind) => Some(kind),
            FormKind::GlobalSettings => None,
        }
    }

    /// What an admin calls it.
    pub fn label(self) -> &'static str {
        match self {
            FormKind::Object(kind) => kind.label(),
            FormKind::GlobalSettings => "global settings",
        }
    }
}

impl From<ObjectKind> for FormKind {
    fn from(kind: ObjectKind) -> Self {
        FormKind::Object(kind)
    }
}

impl From<FormKind> for String {
    fn from(kind: FormKind) -> String {
        kind.as_str().to_owned()
    }
}

impl TryFrom<String> for FormKind {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        FormKind::parse(&text).ok_or_else(|| format!("unknown object kind \"{text}\""))
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

    #[test]
    fn form_kinds_are_written_as_their_identifier() {
        for k in ObjectKind::ALL {
            let form = FormKind::from(k);
            assert_eq!(serde_json::to_value(form).unwrap(), k.as_str());
            assert_eq!(
                serde_json::from_value::<FormKind>(k.as_str().into()).unwrap(),
                form
            );
        }
        assert_eq!(
            serde_json::to_value(FormKind::GlobalSettings).unwrap(),
            "global-settings"
        );
        assert!(serde_json::from_value::<FormKind>("nope".into()).is_err());
    }
}
