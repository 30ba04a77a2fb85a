//! Which endpoint mappings refer to which through Reference mappings (groups → users and
//! groups, users → users for managers), and the order that follows: an endpoint is written
//! after the endpoints it refers to, so a reference finds its target already there.

use super::{AttributeMapping, Config, EndpointMapping, MappingSyntax};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One endpoint mapping referring to another through one Reference mapping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EndpointReference {
    /// The endpoint mapping whose resources hold the references (e.g. `Groups`).
    pub from: String,
    /// The endpoint mapping the referenced entries are synchronised to (e.g. `Users`).
    pub to: String,
    /// The Reference mapping (e.g. `Members`).
    pub mapping: String,
}

impl Config {
    /// The Reference mappings an endpoint mapping uses, directly or inside Composed Complex ones.
    pub fn reference_mappings(&self, endpoint: &EndpointMapping) -> Vec<&AttributeMapping> {
        fn walk<'a>(
            config: &'a Config,
            name: &str,
            depth: usize,
            out: &mut Vec<&'a AttributeMapping>,
        ) {
            let Some(m) = config.get::<AttributeMapping>(name) else {
                return;
            };
            match &m.syntax {
                MappingSyntax::Reference { .. } if !out.iter().any(|o| o.name == m.name) => {
                    out.push(m)
                }
                MappingSyntax::ComposedComplex {
                    sub_attribute_mappings,
                } if depth < 3 => {
                    for sub in sub_attribute_mappings {
                        walk(config, sub, depth + 1, out);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for name in &endpoint.attribute_mappings {
            walk(self, name, 0, &mut out);
        }
        out
    }

    /// Every reference between endpoint mappings, sorted.
    pub fn endpoint_references(&self) -> Vec<EndpointReference> {
        let mut out = BTreeSet::new();
        for endpoint in &self.endpoint_mappings {
            for m in self.reference_mappings(endpoint) {
                if let MappingSyntax::Reference {
                    endpoint_mappings, ..
                } = &m.syntax
                {
                    for to in endpoint_mappings {
                        out.insert(EndpointReference {
                            from: endpoint.name.clone(),
                            to: to.clone(),
                            mapping: m.name.clone(),
                        });
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// `endpoints` in writing order, as levels: each level refers only to earlier levels (and
    /// to itself: nested groups, managers). Endpoints that refer to each other in a cycle share
    /// the last level. Within a level the given order is kept.
    pub fn endpoint_order(&self, endpoints: &[String]) -> Vec<Vec<String>> {
        let references = self.endpoint_references();
        let depends = |from: &str, to: &str| {
            from != to
                && references
                    .iter()
                    .any(|r| r.from == from && r.to == to && endpoints.contains(&r.to))
        };
        let mut left: Vec<String> = Vec::new();
        for e in endpoints {
            if !left.contains(e) {
                left.push(e.clone());
            }
        }
        let mut levels = Vec::new();
        while !left.is_empty() {
            let ready: Vec<String> = left
                .iter()
                .filter(|e| !left.iter().any(|other| depends(e, other)))
                .cloned()
                .collect();
            if ready.is_empty() {
                levels.push(std::mem::take(&mut left));
                break;
            }
            left.retain(|e| !ready.contains(e));
            levels.push(ready);
        }
        levels
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(references: &[(&str, &[&str])]) -> Config {
        let mut mappings = vec![json!({"name": "Name", "scim-attribute-name": "displayName",
            "attribute-usage": ["fetch"], "syntax": {"type": "string", "ldap-attribute": "cn", "single-valued": true}})];
        let mut endpoints = Vec::new();
        for (endpoint, targets) in references {
            let mut names = vec!["Name".to_owned()];
            if !targets.is_empty() {
                let name = format!("{endpoint} refs");
                mappings.push(json!({"name": name, "scim-attribute-name": "members", "attribute-usage": ["fetch"],
                    "syntax": {"type": "reference", "ldap-attribute": "member", "endpoint-mappings": targets}}));
                names.push(name);
            }
            endpoints.push(json!({"name": endpoint, "endpoint-path": endpoint,
                "schema-urns": ["urn:x:core"], "attribute-mappings": names, "search-attribute-mappings": ["Name"]}));
        }
        serde_json::from_value(
            json!({"attribute-mappings": mappings, "endpoint-mappings": endpoints}),
        )
        .unwrap()
    }

    fn levels(levels: &[&[&str]]) -> Vec<Vec<String>> {
        levels
            .iter()
            .map(|l| l.iter().map(|n| n.to_string()).collect())
            .collect()
    }

    #[test]
    fn referenced_endpoints_come_first_whatever_the_given_order() {
        let c = config(&[
            ("Groups", &["Users", "Groups"]),
            ("Users", &["Users"]),
            ("Devices", &[]),
        ]);
        let given: Vec<String> = ["Groups", "Users", "Devices"].map(String::from).into();
        assert_eq!(
            c.endpoint_order(&given),
            levels(&[&["Users", "Devices"], &["Groups"]])
        );
        assert_eq!(
            c.endpoint_references(),
            vec![
                EndpointReference {
                    from: "Groups".into(),
                    to: "Groups".into(),
                    mapping: "Groups refs".into()
                },
                EndpointReference {
                    from: "Groups".into(),
                    to: "Users".into(),
                    mapping: "Groups refs".into()
                },
                EndpointReference {
                    from: "Users".into(),
                    to: "Users".into(),
                    mapping: "Users refs".into()
                },
            ]
        );
    }

    #[test]
    fn chains_give_levels_and_cycles_share_the_last_one() {
        let c = config(&[("A", &["B"]), ("B", &["C"]), ("C", &[])]);
        let given: Vec<String> = ["A", "B", "C"].map(String::from).into();
        assert_eq!(c.endpoint_order(&given), levels(&[&["C"], &["B"], &["A"]]));
        let c = config(&[("A", &["B"]), ("B", &["A"]), ("C", &[])]);
        assert_eq!(c.endpoint_order(&given), levels(&[&["C"], &["A", "B"]]));
        // A reference to an endpoint outside the list does not hold anything back.
        let only_a: Vec<String> = vec!["A".into()];
        assert_eq!(c.endpoint_order(&only_a), levels(&[&["A"]]));
    }
}
