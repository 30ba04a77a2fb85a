//! Complete, valid configurations.
//!
//! * [`directory()`] — the worked example of the README: a standard directory (inetOrgPerson
//!   users with mail, phones and manager; groupOfNames and groupOfUniqueNames groups).
//! * [`example()`] — every mapping type at least once, for unit tests of the model.

use super::Config;

pub const DIRECTORY_JSON: &str = include_str!("../../tests/fixtures/example-config.json");
pub const EXAMPLE_JSON: &str = include_str!("../../tests/fixtures/all-types-config.json");

pub fn directory() -> Config {
    serde_json::from_str(DIRECTORY_JSON).expect("the directory example parses")
}

pub fn example() -> Config {
    serde_json::from_str(EXAMPLE_JSON).expect("the example configuration parses")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_directory_example_is_valid() {
        let config = super::directory();
        config.validate().unwrap();
        assert_eq!(
            config.endpoint_order(&["Groups".into(), "Users".into()]),
            vec![vec!["Users".to_owned()], vec!["Groups".to_owned()]]
        );
    }
}
