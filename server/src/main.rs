//! `scimsync`: the web console (`serve`, the default) and the command line.

mod access;
mod cli;
mod config_cmd;
mod deletes_cmd;
mod instance;
mod live;
mod log_cmd;
mod log_export;
mod observe;
mod output;
mod preview_cmd;
mod realtime_cmd;
mod rejections_cmd;
mod resync_cmd;
mod security_headers;
mod serve;
mod site;
mod store_cmd;
#[cfg(test)]
mod test_console;
mod tls;
mod users_cmd;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    let filter = match log_filter() {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = match args
        .command
        .unwrap_or(cli::Command::Serve(cli::ServeArgs::default()))
    {
        cli::Command::Serve(serve_args) => serve::run(&args.instance, serve_args).await,
        cli::Command::Config { action } => config_cmd::run(&args.instance, action).await,
        cli::Command::Resync(resync_args) => resync_cmd::run(&args.instance, resync_args).await,
        cli::Command::RealtimeSync { action } => realtime_cmd::run(&args.instance, action).await,
        cli::Command::Rejections { action } => rejections_cmd::run(&args.instance, action).await,
        cli::Command::Deletes { action } => deletes_cmd::run(&args.instance, action).await,
        cli::Command::Log(log_args) => log_cmd::run(&args.instance, log_args).await,
        cli::Command::Preview(preview) => preview_cmd::run(&args.instance, preview).await,
        cli::Command::Users { action } => users_cmd::run(&args.instance, action).await,
        cli::Command::Store { action } => store_cmd::run(&args.instance, action).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// What is logged: SCIMSYNC_LOG, else RUST_LOG (as Rust programs read it), else `info`;
/// a filter that does not parse is an error naming the variable and its value.
fn log_filter() -> Result<tracing_subscriber::EnvFilter, String> {
    for variable in ["SCIMSYNC_LOG", "RUST_LOG"] {
        if let Ok(value) = std::env::var(variable)
            && !value.trim().is_empty()
        {
            return tracing_subscriber::EnvFilter::try_new(&value)
                .map_err(|e| format!("{variable}=\"{value}\" is not a log filter: {e}"));
        }
    }
    Ok("info,sqlx=warn".into())
}
