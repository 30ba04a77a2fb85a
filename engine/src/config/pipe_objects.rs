//! The objects one sync pipe runs with: what must change for the pipe to need a restart.

use super::{
    AttributeMapping, Config, EndpointMapping, LdapSource, MappingSyntax, ScimDestination,
    ScimServer, SyncPipe,
};

impl Config {
    /// The part of the configuration `pipe` uses: the global settings, the pipe, its source,
    /// its destination with its server and endpoint mappings, the attribute mappings those use
    /// (sub-mappings included), and the pipe's sync classes. Empty if there is no such pipe.
    pub fn pipe_objects(&self, pipe: &str) -> Config {
        let mut used = Config {
            global: self.global.clone(),
            ..Config::default()
        };
        let Some(p) = self.get::<SyncPipe>(pipe) else {
            return used;
        };
        used.sync_pipes.push(p.clone());
        used.ldap_sources
            .extend(self.get::<LdapSource>(&p.source).cloned());
        if let Some(d) = self.get::<ScimDestination>(&p.destination) {
            used.scim_destinations.push(d.clone());
            used.scim_servers
                .extend(self.get::<ScimServer>(&d.server).cloned());
            for e in d
                .endpoint_mappings
                .iter()
                .filter_map(|e| self.get::<EndpointMapping>(e))
            {
                used.endpoint_mappings.push(e.clone());
                let mut names: Vec<&String> = e.attribute_mappings.iter().collect();
                while let Some(name) = names.pop() {
                    let Some(m) = self.get::<AttributeMapping>(name) else {
                        continue;
                    };
                    if used.attribute_mappings.iter().any(|u| u.name == m.name) {
                        continue;
                    }
                    if let MappingSyntax::ComposedComplex {
                        sub_attribute_mappings,
                    } = &m.syntax
                    {
                        names.extend(sub_attribute_mappings);
                    }
                    used.attribute_mappings.push(m.clone());
                }
            }
        }
        used.sync_classes
            .extend(self.sync_classes.iter().filter(|c| c.pipe == pipe).cloned());
        used
    }

    /// Changes exactly when an object `pipe` runs with changes (see [`Config::pipe_objects`]).
    /// A stored configuration has its secrets sealed, so a new secret changes it too; one with
    /// clear-text secrets cannot be serialised and is compared without them.
    pub fn pipe_fingerprint(&self, pipe: &str) -> String {
        let objects = self.pipe_objects(pipe);
        serde_json::to_string(&objects).unwrap_or_else(|_| format!("{objects:?}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::examples::example;
    use crate::config::{AttributeMapping, SyncPipe};

    #[test]
    fn a_pipe_is_concerned_by_its_own_objects_only() {
        let mut config = example();
        config
            .seal_secrets(&crate::crypto::Cipher::ephemeral())
            .unwrap();
        let mut other = config.sync_pipes[0].clone();
        other.name = "Other".into();
        config.sync_pipes.push(other);
        let before = config.pipe_fingerprint("LDAP to SCIM");
        let used = config.pipe_objects("LDAP to SCIM");
        assert_eq!(used.sync_pipes.len(), 1);
        assert_eq!(used.sync_classes.len(), 3);
        // Sub-mappings of composed mappings are included.
        assert!(
            used.attribute_mappings
                .iter()
                .any(|m| m.name == "Given Name")
        );

        // Another pipe's edit: no change.
        config
            .sync_pipes
            .iter_mut()
            .find(|p| p.name == "Other")
            .unwrap()
            .worker_count = 9;
        assert_eq!(config.pipe_fingerprint("LDAP to SCIM"), before);
        // A mapping nobody uses: no change.
        let mut unused: AttributeMapping = used.attribute_mappings[0].clone();
        unused.name = "Unused".into();
        config.attribute_mappings.push(unused);
        assert_eq!(config.pipe_fingerprint("LDAP to SCIM"), before);
        // One of its sub-mappings: a change.
        config
            .attribute_mappings
            .iter_mut()
            .find(|m| m.name == "Given Name")
            .unwrap()
            .description = "edited".into();
        assert_ne!(config.pipe_fingerprint("LDAP to SCIM"), before);
        assert!(config.get::<SyncPipe>("Other").is_some());
    }
}
