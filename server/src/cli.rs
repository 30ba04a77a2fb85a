//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "scimsync",
    version,
    about = "Keeps SCIM 2.0 services in step with LDAP directories"
)]
pub struct Cli {
    #[command(flatten)]
    pub instance: InstanceArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where this instance keeps its state.
#[derive(Args, Clone)]
pub struct InstanceArgs {
    /// Directory for the embedded database and the key file.
    #[arg(
        long,
        env = "SCIMSYNC_DATA_DIR",
        default_value = "scimsync-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL (sqlite://PATH or postgres://…); default: SQLite in the data directory.
    #[arg(long, env = "SCIMSYNC_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Key file that seals secrets; default: secret.key in the data directory (created if missing).
    #[arg(long, env = "SCIMSYNC_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web console (the default).
    Serve(ServeArgs),
    /// Configuration as code.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Args, Default)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:3000 (default: LEPTOS_SITE_ADDR, else 127.0.0.1:3000).
    #[arg(long, env = "SCIMSYNC_LISTEN")]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Subcommand)]
pub enum ConfigAction {
    /// Write the configuration as JSON (secrets sealed with this instance's key).
    Export {
        /// File to write; standard output when omitted.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Replace the configuration with a JSON file, after validating all of it.
    Import { file: PathBuf },
    /// Check a JSON configuration file and report every problem; changes nothing.
    Validate { file: PathBuf },
}
