//! Runs realtime sync for every pipe that should run, inside `scimsync serve`.
//!
//! Whether a pipe should run is stored (`realtime-sync start|stop`, the console's buttons), so
//! any process can ask and the serving process acts: every second it starts what should run,
//! stops what should not, restarts pipes whose configuration changed, and retries a failed pipe
//! after a pause.

use super::realtime::{RealtimeProgress, RealtimeState, RealtimeStatus, run_realtime};
use crate::store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const TICK: Duration = Duration::from_secs(1);
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(30);

struct Running {
    stop: watch::Sender<bool>,
    progress: RealtimeProgress,
    task: tokio::task::JoinHandle<()>,
    /// The configuration it was started with.
    fingerprint: String,
    finished_at: Option<Instant>,
}

#[derive(Clone, Default)]
pub struct RealtimeSupervisor {
    pipes: Arc<Mutex<BTreeMap<String, Running>>>,
    shutdown: Arc<Mutex<Option<watch::Sender<bool>>>>,
}

impl RealtimeSupervisor {
    /// Starts supervising in the background.
    pub fn spawn(store: Store) -> RealtimeSupervisor {
        let supervisor = RealtimeSupervisor::default();
        let (tx, mut rx) = watch::channel(false);
        *supervisor.shutdown.lock().expect("supervisor lock") = Some(tx);
        let me = supervisor.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = me.reconcile(&store).await {
                    tracing::warn!("realtime supervisor: {e}");
                }
                tokio::select! {
                    _ = tokio::time::sleep(TICK) => {}
                    _ = rx.changed() => break,
                }
            }
        });
        supervisor
    }

    async fn reconcile(&self, store: &Store) -> Result<(), crate::store::StoreError> {
        let config = store.load_config().await?;
        let fingerprint = serde_json::to_string(&config).unwrap_or_default();
        let started = store.started_pipes().await?;
        let wanted: Vec<&String> = started
            .iter()
            .filter(|p| config.sync_pipes.iter().any(|x| &x.name == *p))
            .collect();
        let mut pipes = self.pipes.lock().expect("supervisor lock");
        // Stop what should not run, or runs an old configuration; note what has ended.
        pipes.retain(|name, run| {
            if run.task.is_finished() && run.finished_at.is_none() {
                run.finished_at = Some(Instant::now());
            }
            let keep = wanted.contains(&name) && run.fingerprint == fingerprint;
            let retry = run.finished_at.is_some_and(|at| {
                run.progress.snapshot().state != RealtimeState::Failed
                    || at.elapsed() > RETRY_FAILED_AFTER
            });
            if !keep || retry {
                let _ = run.stop.send(true);
            }
            keep && !retry
        });
        for name in wanted {
            if pipes.contains_key(name) {
                continue;
            }
            let (stop, stopped) = watch::channel(false);
            let progress = RealtimeProgress::new(name);
            let task = {
                let (store, config, name, progress) = (
                    store.clone(),
                    config.clone(),
                    name.clone(),
                    progress.clone(),
                );
                tokio::spawn(async move {
                    if let Err(e) =
                        run_realtime(store, config, name.clone(), stopped, progress).await
                    {
                        tracing::warn!("realtime sync of \"{name}\" stopped: {e}");
                    }
                })
            };
            tracing::info!("realtime sync of \"{name}\" started");
            pipes.insert(
                name.clone(),
                Running {
                    stop,
                    progress,
                    task,
                    fingerprint: fingerprint.clone(),
                    finished_at: None,
                },
            );
        }
        Ok(())
    }

    /// The live status of a pipe this process runs.
    pub fn status(&self, pipe: &str) -> Option<RealtimeStatus> {
        self.pipes
            .lock()
            .expect("supervisor lock")
            .get(pipe)
            .map(|r| r.progress.snapshot())
    }

    /// Stops every pipe and the supervision itself (on server shutdown).
    pub async fn shutdown(&self) {
        if let Some(tx) = self.shutdown.lock().expect("supervisor lock").take() {
            let _ = tx.send(true);
        }
        let runs: Vec<Running> = std::mem::take(&mut *self.pipes.lock().expect("supervisor lock"))
            .into_values()
            .collect();
        for run in runs {
            let _ = run.stop.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(10), run.task).await;
        }
    }
}
