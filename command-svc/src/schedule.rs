//! The inventory schedule: every enrolled device is asked again for its facts (DeviceInformation,
//! SecurityInfo, InstalledApplicationList) once per `interval_secs`, so the device record stays
//! current without an administrator asking.
//!
//! The fleet is walked in enrollment-ID order, one slice every `tick_secs` (the fleet's size
//! times tick over interval), continuing where the last slice stopped: 100,000 devices on a day's
//! interval and a minute's tick are ~70 pushes a minute, never all at once. One replica runs each
//! slice (it claims the run in the database); the commands go out at a low priority (an
//! administrator's come first) and expire after one interval, so a device that stays away holds
//! at most one round of them.

use crate::config;
use crate::error::Error;
use crate::queue::{CommandQueue, MAX_TARGETS};
use mdm_core::CommandSpec;
use mdm_proto::v1::{
    CountEnrollmentsRequest, EnqueueRequest, EnrollmentStatus, ListEnrollmentsRequest,
};
use service_kit::now_ms;
use service_kit::upstream::Upstream;
use std::collections::HashSet;
use std::time::Duration;

/// The schedule's row in `schedules`, and the name its commands are queued by.
pub const NAME: &str = "inventory-schedule";

/// Below an administrator's default priority (0): their commands go first.
const PRIORITY: i32 = -10;

/// Enrollments asked of enroll-svc per page while a slice is gathered.
const PAGE: usize = 1000;

/// The schedule's task.
pub struct InventorySchedule {
    queue: CommandQueue,
    enroll: Upstream,
    interval: Duration,
    tick: Duration,
}

impl InventorySchedule {
    /// The schedule of `config` over `queue`; `None` when it is switched off.
    pub fn new(
        queue: CommandQueue,
        enroll: Upstream,
        config: &config::InventorySchedule,
    ) -> Option<InventorySchedule> {
        (config.interval_secs > 0).then(|| InventorySchedule {
            queue,
            enroll,
            interval: Duration::from_secs(config.interval_secs),
            tick: Duration::from_secs(config.tick_secs),
        })
    }

    /// Runs a slice every tick until the task is dropped.
    pub async fn run(self) {
        let mut ticks = tokio::time::interval(self.tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.slice().await {
                Ok(0) => {}
                Ok(devices) => tracing::info!(devices, "inventory asked again"),
                Err(error) => {
                    tracing::warn!(%error, "inventory schedule failed; retrying at the next tick")
                }
            }
        }
    }

    /// Claims this tick's run and queues the inventory commands for the next slice of the
    /// fleet; the number of devices (0 when another replica runs it).
    pub async fn slice(&self) -> Result<usize, Error> {
        let now = now_ms();
        let tick_ms = millis(self.tick);
        // Held a little less than a tick, so this replica's own next tick finds it free.
        let until = now + tick_ms - (tick_ms / 10).min(1_000);
        let store = self.queue.store();
        let Some(cursor) = store.claim_schedule(NAME, now, until).await? else {
            return Ok(0);
        };
        let (ids, next) = self.next_slice(cursor).await?;
        if !ids.is_empty() {
            self.ask(ids.clone(), now).await?;
        }
        store.save_schedule_cursor(NAME, &next).await?;
        Ok(ids.len())
    }

    /// The device channels of the next slice after `cursor`, wrapping around the end of the
    /// list once, and where the slice after it starts.
    async fn next_slice(&self, mut cursor: String) -> Result<(Vec<String>, String), Error> {
        let mut client = mdm_proto::clients::enrollment(self.enroll.channel());
        let enrolled = client
            .count_enrollments(CountEnrollmentsRequest::default())
            .await
            .map_err(Error::Enroll)?
            .into_inner()
            .enrolled;
        let share = slice_size(enrolled, self.tick, self.interval);
        let mut ids = Vec::new();
        // A slice that wraps around a fleet smaller than itself meets devices again.
        let mut taken = HashSet::new();
        let mut wrapped = false;
        while ids.len() < share {
            let want = (share - ids.len()).min(PAGE);
            let page = client
                .list_enrollments(ListEnrollmentsRequest {
                    status: EnrollmentStatus::Enrolled.into(),
                    after: cursor.clone(),
                    limit: u32::try_from(want).unwrap_or(u32::MAX),
                    ..Default::default()
                })
                .await
                .map_err(Error::Enroll)?
                .into_inner();
            let got = page.enrollments.len();
            for enrollment in page.enrollments {
                // The device channel answers for the device; a user channel has no inventory.
                if enrollment.user_id.is_empty() && taken.insert(enrollment.enrollment_id.clone()) {
                    ids.push(enrollment.enrollment_id.clone());
                }
                cursor = enrollment.enrollment_id;
            }
            if got < want {
                // The end of the list: start again from the beginning, once per slice.
                cursor = String::new();
                if wrapped {
                    break;
                }
                wrapped = true;
            }
        }
        Ok((ids, cursor))
    }

    /// Queues the three inventory commands for `ids`, pushing them with the last.
    async fn ask(&self, ids: Vec<String>, now: i64) -> Result<(), Error> {
        let commands = [
            CommandSpec::DeviceInformation { queries: vec![] },
            CommandSpec::SecurityInfo {},
            CommandSpec::InstalledApplicationList {
                managed_apps_only: None,
                identifiers: vec![],
            },
        ];
        let last = commands.len() - 1;
        for (i, spec) in commands.into_iter().enumerate() {
            let mut command_plist = Vec::new();
            plist::Value::Dictionary(spec.to_command()?)
                .to_writer_xml(&mut command_plist)
                .map_err(|e| Error::InvalidRequest(format!("an inventory command: {e}")))?;
            self.queue
                .enqueue(&EnqueueRequest {
                    enrollment_ids: ids.clone(),
                    command_plist,
                    priority: PRIORITY,
                    // A device away for a whole interval gets the next round, not a backlog.
                    expires_at_ms: now + millis(self.interval),
                    requested_by: NAME.into(),
                    no_push: i != last,
                    // Listed as enrolled a moment ago: one that checked out since only has its
                    // delivery superseded, and must not fail the others'.
                    allow_unknown: true,
                    // The same round goes to every device; one that cannot run a command
                    // answers it with an error, which is all the round needs to know.
                    allow_unsupported: true,
                    ..Default::default()
                })
                .await?;
        }
        Ok(())
    }
}

/// Devices per slice: the fleet spread evenly over the ticks of an interval (at least one while
/// any is enrolled), never more than one enqueue may name.
pub fn slice_size(enrolled: u64, tick: Duration, interval: Duration) -> usize {
    if enrolled == 0 || interval.is_zero() {
        return 0;
    }
    let ticks = (interval.as_millis() / tick.as_millis().max(1)).max(1);
    let share = u128::from(enrolled).div_ceil(ticks);
    usize::try_from(share)
        .unwrap_or(MAX_TARGETS)
        .min(MAX_TARGETS)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_is_spread_over_the_interval() {
        let (minute, day) = (Duration::from_secs(60), Duration::from_secs(86_400));
        assert_eq!(slice_size(100_000, minute, day), 70, "1,440 ticks a day");
        assert_eq!(slice_size(3, minute, day), 1, "at least one device a tick");
        assert_eq!(slice_size(0, minute, day), 0);
        assert_eq!(
            slice_size(10, day, day),
            10,
            "one tick per interval: everyone"
        );
        assert_eq!(slice_size(u64::MAX, minute, day), MAX_TARGETS);
    }
}
