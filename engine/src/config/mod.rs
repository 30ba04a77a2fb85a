//! The typed configuration of a scimsync instance: every object an admin creates in the
//! eleven setup steps, as one document.
//!
//! Property names are the kebab-case names PingDataSync admins know from dsconfig
//! (`scim-attribute-name`, `attribute-usage`, …). The same names are the JSON keys of
//! `scimsync config export`, the field paths of validation errors and the field keys of
//! the console's forms, so an error always points at something the admin can find.
//!
//! Objects refer to each other by name. [`Config::validate`] checks every rule at once and
//! returns all errors; [`Config::references`] is the single list of references used both to
//! reject dangling ones and to refuse deleting an object still in use.

mod attribute_mapping;
mod destination;
mod endpoint_mapping;
mod global;
mod ldap_source;
mod pipe_objects;
mod reference_graph;
mod scim_server;
mod secret;
mod sync_class;
mod sync_pipe;
pub mod validate;
pub mod value_path;

pub use attribute_mapping::{
    AttributeMapping, AttributeUsage, FailedMappingBehavior, MappingSyntax,
};
pub use destination::{QueryMethod, ScimDestination, UpdateMethod};
pub use endpoint_mapping::EndpointMapping;
pub use global::GlobalSettings;
pub use ldap_source::{ChangelogFlavor, ConnectionSecurity, HostPort, LdapSource};
pub use model::kind::ObjectKind;
pub use reference_graph::EndpointReference;
pub use scim_server::{ScimAuth, ScimServer};
pub use secret::Secret;
pub use sync_class::{DeleteAction, SyncClass};
pub use sync_pipe::{SyncPipe, WORKERS};
pub use validate::ValidationError;
pub use value_path::{ValuePath, ValuePathError};

use crate::crypto::{Cipher, CryptoError};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// The whole configuration document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub global: GlobalSettings,
    #[serde(default)]
    pub ldap_sources: Vec<LdapSource>,
    #[serde(default)]
    pub scim_servers: Vec<ScimServer>,
    #[serde(default)]
    pub attribute_mappings: Vec<AttributeMapping>,
    #[serde(default)]
    pub endpoint_mappings: Vec<EndpointMapping>,
    #[serde(default)]
    pub scim_destinations: Vec<ScimDestination>,
    #[serde(default)]
    pub sync_pipes: Vec<SyncPipe>,
    #[serde(default)]
    pub sync_classes: Vec<SyncClass>,
}

/// Identifies one named object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: ObjectKind,
    pub name: String,
}

/// One object naming another in one of its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub from: ObjectRef,
    /// Field path inside `from`, e.g. `sub-attribute-mappings[1]`.
    pub field: String,
    pub to: ObjectRef,
}

/// Where objects of one kind live in the document and what they are called.
pub trait Named: Sized {
    const KIND: ObjectKind;
    fn name(&self) -> &str;
    fn collection(config: &Config) -> &Vec<Self>;
    fn collection_mut(config: &mut Config) -> &mut Vec<Self>;
}

macro_rules! named {
    ($($type:ident in $field:ident),* $(,)?) => {$(
        impl Named for $type {
            const KIND: ObjectKind = ObjectKind::$type;
            fn name(&self) -> &str {
                &self.name
            }
            fn collection(config: &Config) -> &Vec<Self> {
                &config.$field
            }
            fn collection_mut(config: &mut Config) -> &mut Vec<Self> {
                &mut config.$field
            }
        }
    )*};
}

named!(
    LdapSource in ldap_sources,
    ScimServer in scim_servers,
    AttributeMapping in attribute_mappings,
    EndpointMapping in endpoint_mappings,
    ScimDestination in scim_destinations,
    SyncPipe in sync_pipes,
    SyncClass in sync_classes,
);

/// Serde default for switches that are on unless turned off.
pub(crate) fn default_true() -> bool {
    true
}

/// Behaviour of the seven kinds of named objects beyond where they live.
pub trait ConfigItem: Named + Serialize + DeserializeOwned + Clone + std::fmt::Debug {
    /// Secret-valued fields, with their field names.
    fn secrets_mut(&mut self) -> Vec<(&'static str, &mut Secret)> {
        Vec::new()
    }
    /// Names of other objects this one refers to: (field path, target kind, target name).
    fn refers_to(&self) -> Vec<(String, ObjectKind, String)> {
        Vec::new()
    }
    /// Rules that need only this object.
    fn validate_own(&self, issues: &mut validate::Issues<'_>);
}

/// Runs `$body` with `$T` bound to the Rust type of `$kind`.
#[macro_export]
macro_rules! with_kind {
    ($kind:expr, $T:ident => $body:expr) => {{
        use $crate::config::ObjectKind as K;
        match $kind {
            K::LdapSource => {
                type $T = $crate::config::LdapSource;
                $body
            }
            K::ScimServer => {
                type $T = $crate::config::ScimServer;
                $body
            }
            K::AttributeMapping => {
                type $T = $crate::config::AttributeMapping;
                $body
            }
            K::EndpointMapping => {
                type $T = $crate::config::EndpointMapping;
                $body
            }
            K::ScimDestination => {
                type $T = $crate::config::ScimDestination;
                $body
            }
            K::SyncPipe => {
                type $T = $crate::config::SyncPipe;
                $body
            }
            K::SyncClass => {
                type $T = $crate::config::SyncClass;
                $body
            }
        }
    }};
}

/// Why a JSON object could not become a typed configuration object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ShapeError {
    /// Field path inside the object (`.` separated, `[n]` for list items); empty for the whole object.
    pub path: String,
    pub message: String,
}

impl Config {
    pub fn get<T: ConfigItem>(&self, name: &str) -> Option<&T> {
        T::collection(self).iter().find(|o| o.name() == name)
    }

    pub fn contains(&self, kind: ObjectKind, name: &str) -> bool {
        with_kind!(kind, T => self.get::<T>(name).is_some())
    }

    pub fn names(&self, kind: ObjectKind) -> Vec<String> {
        with_kind!(kind, T => T::collection(self).iter().map(|o| o.name().to_owned()).collect())
    }

    /// Inserts the object, or replaces the one with the same name in place.
    pub fn upsert<T: ConfigItem>(&mut self, object: T) {
        let list = T::collection_mut(self);
        match list.iter_mut().find(|o| o.name() == object.name()) {
            Some(slot) => *slot = object,
            None => list.push(object),
        }
    }

    /// Removes the named object; returns whether it existed.
    pub fn remove(&mut self, kind: ObjectKind, name: &str) -> bool {
        with_kind!(kind, T => {
            let list = T::collection_mut(self);
            let before = list.len();
            list.retain(|o| o.name() != name);
            before != list.len()
        })
    }

    /// The object as JSON (secrets sealed or as stored).
    pub fn object_json(&self, kind: ObjectKind, name: &str) -> Option<serde_json::Value> {
        with_kind!(kind, T => self.get::<T>(name).and_then(|o| serde_json::to_value(o).ok()))
    }

    /// Parses `json` as an object of `kind` and upserts it; returns its name.
    pub fn upsert_json(
        &mut self,
        kind: ObjectKind,
        json: serde_json::Value,
    ) -> Result<String, ShapeError> {
        with_kind!(kind, T => {
            let object: T = from_json(json)?;
            let name = object.name().to_owned();
            self.upsert(object);
            Ok(name)
        })
    }

    /// Every reference between objects, in document order.
    pub fn references(&self) -> Vec<Reference> {
        fn collect<T: ConfigItem>(config: &Config, out: &mut Vec<Reference>) {
            for object in T::collection(config) {
                for (field, kind, name) in object.refers_to() {
                    out.push(Reference {
                        from: ObjectRef {
                            kind: T::KIND,
                            name: object.name().to_owned(),
                        },
                        field,
                        to: ObjectRef { kind, name },
                    });
                }
            }
        }
        let mut out = Vec::new();
        for kind in ObjectKind::ALL {
            with_kind!(kind, T => collect::<T>(self, &mut out));
        }
        out
    }

    /// References that point at the given object (what blocks deleting it).
    pub fn referrers(&self, kind: ObjectKind, name: &str) -> Vec<Reference> {
        self.references()
            .into_iter()
            .filter(|r| r.to.kind == kind && r.to.name == name)
            .collect()
    }

    /// Checks every rule and returns every violation.
    pub fn validate(&self) -> Result<(), Vec<ValidationError>> {
        validate::validate(self)
    }

    /// Every secret in the document with a path naming it (for messages).
    pub fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        fn collect<'a, T: ConfigItem + 'a>(
            list: &'a mut [T],
            out: &mut Vec<(String, &'a mut Secret)>,
        ) {
            for object in list {
                let name = object.name().to_owned();
                for (field, secret) in object.secrets_mut() {
                    out.push((format!("{} \"{name}\": {field}", T::KIND.label()), secret));
                }
            }
        }
        let mut out = Vec::new();
        if let Some(key) = self.global.changelog_password_decryption_key.as_mut() {
            out.push((
                "global settings: changelog-password-decryption-key".to_owned(),
                key,
            ));
        }
        if let Some(token) = self.global.metrics_bearer_token.as_mut() {
            out.push(("global settings: metrics-bearer-token".to_owned(), token));
        }
        collect(&mut self.ldap_sources, &mut out);
        collect(&mut self.scim_servers, &mut out);
        out
    }

    /// Seals every clear-text secret and checks every sealed one opens with `cipher`,
    /// so a document sealed by another instance's key is refused as a whole.
    pub fn seal_secrets(&mut self, cipher: &Cipher) -> Result<(), Vec<(String, CryptoError)>> {
        let mut errors = Vec::new();
        for (path, secret) in self.secrets_mut() {
            if let Err(e) = secret.seal(cipher) {
                errors.push((path, e));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Deserialises with the failing field's path in the error.
pub fn from_json<T: DeserializeOwned>(json: serde_json::Value) -> Result<T, ShapeError> {
    serde_path_to_error::deserialize(json).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        ShapeError {
            path: if path == "." { String::new() } else { path },
            message,
        }
    })
}

/// The example configuration (docs, tests).
pub mod examples;
