//! Runs realtime sync for every pipe that should run, inside `scimsync serve`.
//!
//! Whether a pipe should run is stored (`realtime-sync start|stop`, the console's buttons), so
//! any process can ask and the serving process acts: every second it starts what should run,
//! stops what should not, restarts pipes whose configuration changed, and retries a failed pipe
//! after a pause. With several instances on one database, a pipe runs where its lease is
//! held (see [`crate::store::PipeLease`]).

use super::realtime::{RealtimeProgress, run_realtime_as};
use crate::report::{RealtimeState, RealtimeStatus};
use crate::store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const TICK: Duration = Duration::from_secs(1);
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(30);
/// How long a pipe's lease lasts without renewal (renewed every tick): an instance that dies
/// hands its pipes over to another instance within this time plus a tick.
pub const LEASE_TTL: Duration = Duration::from_secs(15);

struct Running {
    stop: watch::Sender<bool>,
    progress: RealtimeProgress,
    task: tokio::task::JoinHandle<()>,
    /// The configuration it was started with.
    fingerprint: String,
    finished_at: Option<Instant>,
}

#[derive(Clone)]
pub struct RealtimeSupervisor {
    pipes: Arc<Mutex<BTreeMap<String, Running>>>,
    shutdown: Arc<Mutex<Option<watch::Sender<bool>>>>,
    instance: Arc<str>,
    store: Store,
}

/// This machine's name, for naming instances.
pub fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

impl RealtimeSupervisor {
    /// Starts supervising in the background as `instance`: it runs the started pipes whose
    /// lease it can take, renews those leases every second and stops a pipe whose lease it
    /// lost.
    pub fn spawn_as(store: Store, instance: &str) -> RealtimeSupervisor {
        let supervisor = RealtimeSupervisor {
            pipes: Arc::default(),
            shutdown: Arc::default(),
            instance: instance.into(),
            store: store.clone(),
        };
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

    /// This instance's name.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    async fn reconcile(&self, store: &Store) -> Result<(), crate::store::StoreError> {
        let config = store.load_config().await?;
        let started = store.started_pipes().await?;
        let wanted: Vec<String> = started
            .into_iter()
            .filter(|p| config.sync_pipes.iter().any(|x| &x.name == p))
            .collect();
        // Renew the leases of what runs here; a pipe whose lease is gone must stop at once.
        let here: Vec<String> = self
            .pipes
            .lock()
            .expect("supervisor lock")
            .keys()
            .cloned()
            .collect();
        let mut lost = Vec::new();
        for name in here.iter().filter(|n| wanted.contains(n)) {
            if !store.hold_lease(name, &self.instance, LEASE_TTL).await? {
                tracing::warn!("realtime sync of \"{name}\": lease lost, another instance runs it");
                lost.push(name.clone());
            }
        }
        let mut released = Vec::new();
        {
            let mut pipes = self.pipes.lock().expect("supervisor lock");
            // Stop what should not run, runs an old configuration, or lost its lease.
            pipes.retain(|name, run| {
                if run.task.is_finished() && run.finished_at.is_none() {
                    run.finished_at = Some(Instant::now());
                }
                // Restarted only when an object this pipe runs with changed.
                let keep = wanted.contains(name)
                    && run.fingerprint == config.pipe_fingerprint(name)
                    && !lost.contains(name);
                let retry = run.finished_at.is_some_and(|at| {
                    run.progress.snapshot().state != RealtimeState::Failed
                        || at.elapsed() > RETRY_FAILED_AFTER
                });
                if !keep || retry {
                    let _ = run.stop.send(true);
                    if !lost.contains(name) {
                        released.push(name.clone());
                    }
                }
                keep && !retry
            });
        }
        for name in &released {
            if !wanted.contains(name) {
                store.release_lease(name, &self.instance).await?;
            }
        }
        for name in wanted {
            if self
                .pipes
                .lock()
                .expect("supervisor lock")
                .contains_key(&name)
            {
                continue;
            }
            if !store.hold_lease(&name, &self.instance, LEASE_TTL).await? {
                continue; // another instance runs it
            }
            let (stop, stopped) = watch::channel(false);
            let progress = RealtimeProgress::new(&name);
            let task = {
                let (store, config, name, progress, holder) = (
                    store.clone(),
                    config.clone(),
                    name.clone(),
                    progress.clone(),
                    self.instance.to_string(),
                );
                tokio::spawn(async move {
                    if let Err(e) = run_realtime_as(
                        store,
                        config,
                        name.clone(),
                        stopped,
                        progress,
                        Some(holder),
                    )
                    .await
                    {
                        tracing::warn!("realtime sync of \"{name}\" stopped: {e}");
                    }
                })
            };
            tracing::info!(
                "realtime sync of \"{name}\" started on instance \"{}\"",
                self.instance
            );
            let fingerprint = config.pipe_fingerprint(&name);
            self.pipes.lock().expect("supervisor lock").insert(
                name,
                Running {
                    stop,
                    progress,
                    task,
                    fingerprint,
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
        let runs: Vec<(String, Running)> =
            std::mem::take(&mut *self.pipes.lock().expect("supervisor lock"))
                .into_iter()
                .collect();
        for (name, run) in runs {
            let _ = run.stop.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(10), run.task).await;
            // Handed over at once rather than when the lease expires.
            if let Err(e) = self.store.release_lease(&name, &self.instance).await {
                tracing::warn!("releasing the lease of \"{name}\": {e}");
            }
        }
    }
}
