//! A complete, valid configuration for tests.

use super::Config;

pub const EXAMPLE_JSON: &str = include_str!("../../tests/fixtures/example-config.json");

pub fn example() -> Config {
    serde_json::from_str(EXAMPLE_JSON).expect("the example configuration parses")
}
