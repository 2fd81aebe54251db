//! Blueprint runs: a device's first TokenUpdate started them (in ingest's transaction); here
//! their commands are queued in order, one enqueue each with an idempotency key of the run and
//! the command's place (a retry after a crash queues nothing twice), and, for a device waiting
//! in Setup Assistant, DeviceConfigured once every command has its answer (or expired, or was
//! cancelled: the device must not wait forever). A blueprint's declaration sets are assigned to
//! the device first, and it is told to sync (docs/declarative.md).

use super::queue::{self, refusal, Fault, Queued, Refused};
use super::Dispatcher;
use crate::routes::commands::command_dictionary;
use crate::store::{BlueprintRow, RunRow};
use mdm_proto::v1::AssignSetRequest;
use serde_json::{Map, Value};

/// Above an administrator's default priority (0): what a new device is set up with comes first.
pub const PRIORITY: i32 = 10;

/// Runs advanced per round.
const RUNS_PER_ROUND: i64 = 100;

/// Advances the runs that have something to do.
pub async fn advance(dispatcher: &Dispatcher) {
    let runs = match dispatcher.store.runs_to_advance(RUNS_PER_ROUND).await {
        Ok(runs) => runs,
        Err(error) => {
            tracing::warn!(%error, "blueprint runs not read");
            return;
        }
    };
    for run in runs {
        if let Err(error) = advance_run(dispatcher, &run).await {
            tracing::warn!(run = %run.id, %error, "blueprint run not advanced; retrying");
        }
    }
}

async fn advance_run(dispatcher: &Dispatcher, run: &RunRow) -> Result<(), Fault> {
    let store = &dispatcher.store;
    let now = service_kit::now_ms();
    let Some(blueprint) = store.blueprint(&run.blueprint_id).await? else {
        store
            .set_run_status(&run.id, "failed", Some("the blueprint was deleted"), now)
            .await?;
        return Ok(());
    };
    let requested_by = format!("blueprint:{}", blueprint.name);
    if run.status == "queueing" {
        if queued(run) == 0 {
            if let Err(Refused(why)) =
                assign_sets(dispatcher, run, &blueprint, &requested_by).await?
            {
                return Ok(store
                    .set_run_status(&run.id, "failed", Some(&why), now)
                    .await?);
            }
        }
        let commands: Vec<Map<String, Value>> =
            serde_json::from_str(&blueprint.commands).unwrap_or_default();
        for (index, command) in commands.iter().enumerate().skip(queued(run)) {
            let index = i64::try_from(index).unwrap_or(i64::MAX);
            let key = format!("blueprint:{}:{index}", run.id);
            match enqueue(dispatcher, run, command, key, &requested_by, index == 0).await? {
                Ok(uuid) => store.run_queued(&run.id, index, &uuid, now).await?,
                Err(Refused(why)) => {
                    return Ok(store
                        .set_run_status(&run.id, "failed", Some(&why), now)
                        .await?)
                }
            }
        }
        let next = if run.awaiting_configuration && blueprint.device_configured {
            "waiting"
        } else {
            "done"
        };
        store.set_run_status(&run.id, next, None, now).await?;
        // A run whose commands all had answers already is finished by the next round.
        return Ok(());
    }
    if run.status == "waiting" && run.answered >= run.total {
        let mut configured = Map::new();
        configured.insert("RequestType".into(), Value::from("DeviceConfigured"));
        let key = format!("blueprint:{}:configured", run.id);
        match enqueue(dispatcher, run, &configured, key, &requested_by, true).await? {
            Ok(_) => store.set_run_status(&run.id, "done", None, now).await?,
            Err(Refused(why)) => {
                store
                    .set_run_status(&run.id, "failed", Some(&why), now)
                    .await?
            }
        }
    }
    Ok(())
}

/// Assigns the blueprint's declaration sets to the run's device, then queues the
/// `DeclarativeManagement` command that makes it sync (keyed by the run: a retry queues nothing
/// twice, and assigning again changes nothing). A set deleted since the blueprint was made fails
/// the run, naming it.
async fn assign_sets(
    dispatcher: &Dispatcher,
    run: &RunRow,
    blueprint: &BlueprintRow,
    requested_by: &str,
) -> Result<Result<(), Refused>, Fault> {
    let sets: Vec<String> = serde_json::from_str(&blueprint.declaration_sets).unwrap_or_default();
    if sets.is_empty() {
        return Ok(Ok(()));
    }
    for name in sets {
        let assigned = dispatcher
            .backends
            .declarative()
            .assign_set(AssignSetRequest {
                name,
                assign: vec![run.enrollment_id.clone()],
                unassign: Vec::new(),
                by: requested_by.to_owned(),
            })
            .await;
        if let Err(status) = assigned {
            return refusal("enroll-svc", &status).map(Err);
        }
    }
    let mut sync = Map::new();
    sync.insert("RequestType".into(), Value::from("DeclarativeManagement"));
    let key = format!("blueprint:{}:declarations", run.id);
    Ok(enqueue(dispatcher, run, &sync, key, requested_by, true)
        .await?
        .map(|_| ()))
}

fn queued(run: &RunRow) -> usize {
    usize::try_from(run.queued).unwrap_or(0)
}

/// Queues one command of a run: its CommandUUID, or the refusal. A fault is an `Err` (the run
/// is advanced again next round).
async fn enqueue(
    dispatcher: &Dispatcher,
    run: &RunRow,
    command: &Map<String, Value>,
    idempotency_key: String,
    requested_by: &str,
    push: bool,
) -> Result<Result<String, Refused>, Fault> {
    let command = match command_dictionary(command) {
        Ok(dictionary) => dictionary,
        Err(e) => return Ok(Err(Refused(e.to_string()))),
    };
    queue::enqueue(
        dispatcher,
        Queued {
            enrollment_id: &run.enrollment_id,
            command,
            idempotency_key,
            requested_by,
            reason: String::new(),
            priority: PRIORITY,
            expires_at_ms: 0,
            push,
        },
    )
    .await
}
