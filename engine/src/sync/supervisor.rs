//! Runs realtime sync for every pipe that should run, inside `scimsync serve`.
//!
//! Whether a pipe should run is stored (`realtime-sync start|stop`, the console's buttons), so
//! any process can ask and the serving process acts: every second it starts what should run,
//! stops what should not, restarts pipes whose configuration changed, and retries a failed pipe
//! after a pause. With several instances on one database, a pipe runs where its lease is
//! held (see [`crate::store::PipeLease`]).

use super::plan::{PipePlan, PlanError};
use super::realtime::{RealtimeProgress, run_plan};
use crate::config::Config;
use crate::report::{RealtimeState, RealtimeStatus};
use crate::store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const TICK: Duration = Duration::from_secs(1);
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(30);
/// How long a stopping run may take to finish what it applies (its lanes cut off changes
/// still trying after 5 s).
const STOP_WAIT: Duration = Duration::from_secs(10);
pub use crate::store::LEASE_TTL;

struct Running {
    stop: watch::Sender<bool>,
    progress: RealtimeProgress,
    task: tokio::task::JoinHandle<()>,
    /// The configuration it was started with.
    fingerprint: String,
    finished_at: Option<Instant>,
}

/// Builds the plan a pipe runs with: [`PipePlan::build`], or one with in-memory source and
/// destination in unit tests.
pub(crate) type Planner =
    Arc<dyn Fn(&Config, &str, &Store) -> Result<PipePlan, PlanError> + Send + Sync>;

#[derive(Clone)]
pub struct RealtimeSupervisor {
    pipes: Arc<Mutex<BTreeMap<String, Running>>>,
    shutdown: Arc<Mutex<Option<watch::Sender<bool>>>>,
    instance: Arc<str>,
    store: Store,
    planner: Planner,
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
        let planner: Planner = Arc::new(|config: &Config, pipe: &str, store: &Store| {
            PipePlan::build(config, pipe, store.cipher(), None)
        });
        Self::spawn_planning(store, instance, planner)
    }

    /// [`RealtimeSupervisor::spawn_as`], building plans with `planner`.
    pub(crate) fn spawn_planning(
        store: Store,
        instance: &str,
        planner: Planner,
    ) -> RealtimeSupervisor {
        let supervisor = RealtimeSupervisor {
            pipes: Arc::default(),
            shutdown: Arc::default(),
            instance: instance.into(),
            store: store.clone(),
            planner,
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
        // Stop what should not run, runs an old configuration, or lost its lease.
        let mut stopping = Vec::new();
        {
            let mut pipes = self.pipes.lock().expect("supervisor lock");
            let names: Vec<String> = pipes.keys().cloned().collect();
            for name in names {
                let run = pipes.get_mut(&name).expect("listed above");
                if run.task.is_finished() && run.finished_at.is_none() {
                    run.finished_at = Some(Instant::now());
                }
                // Restarted only when an object this pipe runs with changed.
                let keep = wanted.contains(&name)
                    && run.fingerprint == config.pipe_fingerprint(&name)
                    && !lost.contains(&name);
                let retry = run.finished_at.is_some_and(|at| {
                    run.progress.snapshot().state != RealtimeState::Failed
                        || at.elapsed() > RETRY_FAILED_AFTER
                });
                if !keep || retry {
                    let run = pipes.remove(&name).expect("listed above");
                    let _ = run.stop.send(true);
                    stopping.push((name, run.task));
                }
            }
        }
        // A run has ended before its lease is handed over or it starts again, so that two
        // runs of one pipe never apply changes or save checkpoints at once.
        for (name, task) in stopping {
            if tokio::time::timeout(STOP_WAIT, task).await.is_err() {
                tracing::warn!("realtime sync of \"{name}\" did not stop within {STOP_WAIT:?}");
            }
            if !wanted.contains(&name) && !lost.contains(&name) {
                store.release_lease(&name, &self.instance).await?;
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
                let plan = (self.planner)(&config, &name, store);
                let (store, name, progress, holder) = (
                    store.clone(),
                    name.clone(),
                    progress.clone(),
                    self.instance.to_string(),
                );
                tokio::spawn(async move {
                    if let Err(e) =
                        run_plan(store, &name, plan, stopped, progress, Some(holder)).await
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
            let _ = tokio::time::timeout(STOP_WAIT, run.task).await;
            // Handed over at once rather than when the lease expires.
            if let Err(e) = self.store.release_lease(&name, &self.instance).await {
                tracing::warn!("releasing the lease of \"{name}\": {e}");
            }
        }
    }
}
