//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "scimsync",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("SCIMSYNC_COMMIT"), ")"),
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
    /// Bulk-synchronize a pipe's source entries into its SCIM destination (setup step 10).
    Resync(ResyncArgs),
    /// Realtime sync from the changelog (setup steps 9 and 11).
    RealtimeSync {
        #[command(subcommand)]
        action: RealtimeAction,
    },
    /// The log of changes: every change resync and realtime sync handled, newest first.
    Log(LogArgs),
    /// What the engine would do with one entry, step by step; --apply does it.
    Preview(PreviewArgs),
    /// Operations that could not be applied: list, inspect, retry, dismiss.
    Rejections {
        #[command(subcommand)]
        action: RejectionAction,
    },
    /// Deletes held back by a pipe's deletion limit: list, approve (apply), discard.
    Deletes {
        #[command(subcommand)]
        action: DeleteAction,
    },
    /// Configuration as code.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Who may sign in to the console: admins change things, viewers only watch.
    Users {
        #[command(subcommand)]
        action: UserAction,
    },
    /// The store itself: a consistent backup while the server runs.
    Store {
        #[command(subcommand)]
        action: StoreAction,
    },
}

#[derive(Subcommand)]
pub enum StoreAction {
    /// Copy the SQLite store to FILE (it must not exist), consistently, even while `serve`
    /// runs; keep the key file with it. A PostgreSQL store is backed up with pg_dump.
    Backup { file: PathBuf },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Admin,
    Viewer,
}

#[derive(Subcommand)]
pub enum UserAction {
    /// List console users and their roles.
    List,
    /// Add a user; the password comes from SCIMSYNC_USER_PASSWORD or is read from standard input.
    Add {
        username: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Set a user's password (from SCIMSYNC_USER_PASSWORD or standard input); signs them out.
    SetPassword { username: String },
    /// Remove a user (never the last admin); signs them out.
    Remove { username: String },
}

#[derive(Args, Default)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:3000 (default: LEPTOS_SITE_ADDR, else 127.0.0.1:3000).
    #[arg(long, env = "SCIMSYNC_LISTEN")]
    pub listen: Option<std::net::SocketAddr>,
    /// This instance's name among those sharing one database (shown as where each pipe
    /// runs); default: host:port.
    #[arg(long, env = "SCIMSYNC_INSTANCE_NAME")]
    pub instance_name: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, env = "SCIMSYNC_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key.
    #[arg(long, env = "SCIMSYNC_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The URL browsers reach the console at, when it differs from --listen (a reverse proxy
    /// terminating TLS): https:// makes the session cookie Secure.
    #[arg(long, env = "SCIMSYNC_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<url::Url>,
}

fn public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("\"{text}\" is not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.has_host() => Ok(url),
        _ => Err(format!(
            "\"{text}\" is not an http:// or https:// URL with a host"
        )),
    }
}

#[derive(Args)]
pub struct ResyncArgs {
    /// The sync pipe to resync.
    #[arg(long)]
    pub pipe: String,
    /// Report what would be created or modified; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Only entries that also match this LDAP filter, e.g. "(uid=jdoe)".
    #[arg(long)]
    pub filter: Option<String>,
    /// Only the DNs in this file (dn: lines, e.g. a failed-DNs file).
    #[arg(long)]
    pub source_input_file: Option<PathBuf>,
    /// SCIM operations per second (default: the pipe's max-ops-per-second).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate_per_second: Option<u32>,
    /// Entries processed in parallel (default: the pipe's worker count).
    #[arg(long, value_parser = clap::value_parser!(u32).range(
        i64::from(*engine::config::WORKERS.start())..=i64::from(*engine::config::WORKERS.end())
    ))]
    pub threads: Option<u32>,
    /// Afterwards, delete (or deactivate, as their class says) the resources scimsync manages
    /// whose entries are gone or out of scope; the pipe's deletion limit applies. With
    /// --dry-run, lists them.
    #[arg(long, conflicts_with_all = ["filter", "source_input_file"])]
    pub delete_missing: bool,
    /// Where DNs that could not be synchronized are written (only when there are some).
    #[arg(long, default_value = "resync-failed-DNs.ldif")]
    pub failed_dns_file: PathBuf,
}

#[derive(Args)]
pub struct PreviewArgs {
    #[arg(long)]
    pub pipe: String,
    /// The entry's DN.
    #[arg(long)]
    pub dn: String,
    /// Perform the action (create or modify the resource) and keep what came of it.
    #[arg(long)]
    pub apply: bool,
    /// The preview as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum RealtimeAction {
    /// Set where realtime sync of a pipe starts reading the changelog.
    SetStartpoint {
        #[arg(long)]
        pipe: String,
        #[command(flatten)]
        position: StartpointArgs,
    },
    /// Start realtime sync of a pipe (a running `scimsync serve` picks it up).
    Start {
        #[arg(long)]
        pipe: String,
    },
    /// Stop realtime sync of a pipe.
    Stop {
        #[arg(long)]
        pipe: String,
    },
    /// Show each pipe's realtime state and counters.
    Status {
        #[arg(long)]
        pipe: Option<String>,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct StartpointArgs {
    /// Skip every change made so far.
    #[arg(long)]
    pub end_of_changelog: bool,
    /// Apply every change the changelog still holds.
    #[arg(long)]
    pub beginning_of_changelog: bool,
    /// Start with this change number (draft-good changelogs).
    #[arg(long)]
    pub change_number: Option<u64>,
    /// Start with the first change at or after this time (RFC 3339, or "YYYY-MM-DD HH:MM" UTC).
    #[arg(long)]
    pub startpoint_time: Option<String>,
}

/// Which logged changes to list.
#[derive(Args, Clone)]
pub struct LogArgs {
    #[arg(long)]
    pub pipe: Option<String>,
    /// Part of the entry DN (case-insensitive).
    #[arg(long)]
    pub dn: Option<String>,
    /// created, modified, deleted, in-sync, out-of-scope, skipped, dropped or rejected.
    #[arg(long)]
    pub outcome: Option<String>,
    /// Only changes from this time on (RFC 3339, or "YYYY-MM-DD HH:MM" UTC).
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Which open rejections a command applies to.
#[derive(Args, Clone, Default)]
pub struct RejectionSelect {
    #[arg(long)]
    pub pipe: Option<String>,
    /// Part of the entry DN (case-insensitive).
    #[arg(long)]
    pub dn: Option<String>,
    /// Part of the reason (case-insensitive).
    #[arg(long)]
    pub reason: Option<String>,
    /// Only rejections from this time on (RFC 3339, or "YYYY-MM-DD HH:MM" UTC).
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

#[derive(Subcommand)]
pub enum RejectionAction {
    /// Open rejections, newest first.
    List(RejectionSelect),
    /// Everything kept about one rejection: source, SCIM request and response, reason.
    Show { id: String },
    /// Synchronize the entry again; resolved on success.
    Retry {
        /// The rejection's id (from `list`); or --all with filters.
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
        #[command(flatten)]
        select: RejectionSelect,
    },
    /// Close rejections without retrying.
    Dismiss {
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
        #[command(flatten)]
        select: RejectionSelect,
    },
}

#[derive(Subcommand)]
pub enum DeleteAction {
    /// Held deletes, oldest first.
    List {
        #[arg(long)]
        pipe: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Apply held deletes (as each entry is now: one back in scope is synchronised instead).
    Approve(HeldSelect),
    /// Drop held deletes: their resources stay at the destination.
    Discard(HeldSelect),
}

/// Which held deletes an approve or discard takes.
#[derive(clap::Args)]
pub struct HeldSelect {
    /// Held deletes' ids (from `list`); or --all, with --pipe.
    #[arg(required_unless_present = "all")]
    pub ids: Vec<String>,
    #[arg(long, conflicts_with = "ids", requires = "pipe")]
    pub all: bool,
    #[arg(long)]
    pub pipe: Option<String>,
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
