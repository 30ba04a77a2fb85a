//! `scimsync config export | import | validate`: the console's configuration as a JSON file.

use crate::cli::{ConfigAction, InstanceArgs};
use crate::output::{say, say_part};
use anyhow::Context;
use engine::config::Config;
use engine::store::SaveError;
use std::path::Path;
use std::process::ExitCode;

pub async fn run(instance: &InstanceArgs, action: ConfigAction) -> anyhow::Result<ExitCode> {
    match action {
        ConfigAction::Export { output } => {
            let store = instance.open_store().await?;
            let config = store.load_config().await?;
            let text = serde_json::to_string_pretty(&config)? + "\n";
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => say_part!("{text}"),
            }
            eprintln!(
                "scimsync: secrets are exported sealed with key file {}; they import only where that key is used — \
                 or replace them with clear-text strings before importing elsewhere",
                instance.key_path().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ConfigAction::Validate { file } => {
            let config = read(&file)?;
            match config.validate() {
                Ok(()) => {
                    say!("{}: valid ({})", file.display(), describe(&config));
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("error: {e}");
                    }
                    eprintln!("{}: {} problem(s)", file.display(), errors.len());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        ConfigAction::Import { file } => {
            let config = read(&file)?;
            let summary = describe(&config);
            let store = instance.open_store().await?;
            match store.replace_all(config).await {
                Ok(()) => {
                    let detail = format!("from {} ({summary})", file.display());
                    crate::instance::audit(&store, "import", "configuration", &detail).await;
                    say!("imported {} ({summary})", file.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(SaveError::Invalid(errors)) => {
                    for e in &errors {
                        eprintln!("error: {e}");
                    }
                    eprintln!("nothing imported: {} problem(s)", errors.len());
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    eprintln!("nothing imported");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

fn read(path: &Path) -> anyhow::Result<Config> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    engine::config::from_json(json).map_err(|e| {
        let at = if e.path.is_empty() {
            String::new()
        } else {
            format!(" at {}", e.path)
        };
        anyhow::anyhow!("{}{at}: {}", path.display(), e.message)
    })
}

fn describe(config: &Config) -> String {
    use engine::config::ObjectKind;
    let parts: Vec<String> = ObjectKind::ALL
        .iter()
        .map(|k| (k, config.names(*k).len()))
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} × {}", k.label()))
        .collect();
    if parts.is_empty() {
        "empty".into()
    } else {
        parts.join(", ")
    }
}
