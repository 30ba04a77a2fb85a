//! Plain data shared by the engine, the console (server and browser) and the CLI: one
//! definition of each, so nothing is copied by hand or round-tripped through JSON to convert.
//! Serde only: it builds for wasm.

pub mod report;
