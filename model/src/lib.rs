//! Plain data shared by the engine, the console (server and browser) and the CLI: one
//! definition of each, so nothing is copied by hand or round-tripped through JSON to convert.
//! Serde only: it builds for wasm.

/// Defines a fieldless enum written as fixed identifiers: `as_str`, `parse`, `ALL` and a
/// `Display` that writes the identifier.
macro_rules! identifiers {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod access;
pub mod held_delete;
pub mod kind;
pub mod preview;
pub mod rejection;
pub mod report;
pub mod steps;
pub mod sync_log;
