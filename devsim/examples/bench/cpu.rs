//! Where the CPU went during a scenario: user + system time of every process of the stack, from
//! /proc, as cores used over the scenario's wall time and as CPU milliseconds per device
//! request.
//!
//! Some work a request causes runs after its answer: command-svc sends inventory updates from
//! its outbox to enroll-svc, push-svc records device activity, PostgreSQL writes back. So the
//! window is read twice: when the last request is answered (cores, and CPU per request while
//! the load ran) and again once the server has gone quiet (CPU per request with that tail).
//!
//! PostgreSQL forks a backend per connection; its figure is the backends connected to this
//! stack's databases plus the server-wide processes their work wakes (checkpointer, WAL writer,
//! background writer, the postmaster), so another database's clients on the same server (other
//! tests, other work) are left out.

use std::time::{Duration, Instant};
use testkit::Stack;

/// The processes, in report order. The server is all but the last two: the mock APNs stands in
/// for Apple and the simulator for the devices.
const PROCESSES: [&str; 8] = [
    "proxy",
    "enroll-svc",
    "command-svc",
    "push-svc",
    "admin-svc",
    "postgres",
    "mock-apns",
    "simulator",
];
const SERVER: usize = 6;
/// The server is quiet when it uses less than this many cores over a [`QUIET_SAMPLE`]. /proc
/// counts in hundredths of a second, so a second's sample resolves a hundredth of a core per
/// process; idle, the services use about that (heartbeats, gauges).
const QUIET_CORES: f64 = 0.05;
const QUIET_SAMPLE: Duration = Duration::from_secs(1);
/// The longest tail waited for.
const MAX_TAIL: Duration = Duration::from_secs(60);

/// CPU seconds (user + system) of a process, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field(11) + field(12)) / 100.0
}

/// Whether a PostgreSQL process works for this stack, by the title PostgreSQL gives it:
/// `postgres: <user> <database> <host>(<port>) <state>` for a client backend,
/// `postgres: autovacuum worker <database>`, `postgres: checkpointer` and the like otherwise.
fn works_for(title: &str, databases: &[String]) -> bool {
    let words: Vec<&str> = title.split_whitespace().collect();
    if words.iter().any(|w| databases.iter().any(|d| d == w)) {
        return true;
    }
    let client = title.contains('(') || title.contains("[local]");
    !client && !title.contains("autovacuum worker")
}

/// CPU seconds of the PostgreSQL processes working for `databases` (none: PostgreSQL is not
/// in use).
fn postgres_cpu(databases: &[String]) -> f64 {
    if databases.is_empty() {
        return 0.0;
    }
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
                .is_ok_and(|title| works_for(&title, databases))
        })
        .map(cpu_seconds)
        .sum()
}

/// CPU seconds per process, in [`PROCESSES`] order; replicas count with their service.
fn snapshot(stack: &Stack, databases: &[String]) -> [f64; PROCESSES.len()] {
    let replicas = |service: &str| -> f64 {
        stack
            .replicas
            .iter()
            .filter(|r| r.service == service)
            .map(|r| cpu_seconds(r.process.id()))
            .sum()
    };
    let proxies: f64 = stack
        .proxies
        .iter()
        .map(|edge| cpu_seconds(edge.process.id()))
        .sum();
    [
        cpu_seconds(stack.proxy.id()) + proxies,
        cpu_seconds(stack.enroll.id()) + replicas("enroll-svc"),
        cpu_seconds(stack.command.id()) + replicas("command-svc"),
        cpu_seconds(stack.push.id()) + replicas("push-svc"),
        cpu_seconds(stack.admin.id()),
        postgres_cpu(databases),
        stack.apns.process().map_or(0.0, |p| cpu_seconds(p.id())),
        cpu_seconds(std::process::id()),
    ]
}

/// Counts the CPU every process spends from [`CpuWatch::start`] to [`CpuWatch::finish`].
pub struct CpuWatch<'a> {
    stack: &'a Stack,
    databases: Vec<String>,
    before: [f64; PROCESSES.len()],
    started: Instant,
}

impl<'a> CpuWatch<'a> {
    pub fn start(stack: &'a Stack) -> CpuWatch<'a> {
        let databases: Vec<String> = stack
            .postgres_databases()
            .into_iter()
            .map(|(_, name)| name.to_owned())
            .collect();
        CpuWatch {
            stack,
            before: snapshot(stack, &databases),
            databases,
            started: Instant::now(),
        }
    }

    /// Call as the last request is answered: the CPU used since the start, then (once the
    /// server is quiet, or after [`MAX_TAIL`]) with the tail of work the requests left.
    pub async fn finish(&self) -> CpuUse {
        let used = |to: &[f64; PROCESSES.len()]| -> [f64; PROCESSES.len()] {
            std::array::from_fn(|i| (to[i] - self.before[i]).max(0.0))
        };
        let end = snapshot(self.stack, &self.databases);
        let wall_seconds = self.started.elapsed().as_secs_f64();
        let mut last = end;
        let deadline = Instant::now() + MAX_TAIL;
        loop {
            tokio::time::sleep(QUIET_SAMPLE).await;
            let now = snapshot(self.stack, &self.databases);
            let server: f64 = (0..SERVER).map(|i| now[i] - last[i]).sum();
            last = now;
            if server < QUIET_CORES * QUIET_SAMPLE.as_secs_f64() || Instant::now() > deadline {
                break;
            }
        }
        CpuUse {
            wall_seconds,
            seconds: used(&end),
            tail_seconds: self.started.elapsed().as_secs_f64() - wall_seconds,
            with_tail: used(&last),
        }
    }
}

/// CPU seconds per process over a window of wall time, and up to the end of its tail.
pub struct CpuUse {
    wall_seconds: f64,
    seconds: [f64; PROCESSES.len()],
    tail_seconds: f64,
    with_tail: [f64; PROCESSES.len()],
}

/// One row of the report: cores used and CPU milliseconds per device request, without and
/// with the tail.
struct Row {
    name: &'static str,
    cores: f64,
    ms_per_request: f64,
    ms_with_tail: f64,
}

impl CpuUse {
    fn rows(&self, requests: usize) -> Vec<Row> {
        let ms = |seconds: f64| seconds * 1000.0 / requests.max(1) as f64;
        let row = |name, (seconds, with_tail): (f64, f64)| Row {
            name,
            cores: seconds / self.wall_seconds.max(f64::EPSILON),
            ms_per_request: ms(seconds),
            ms_with_tail: ms(with_tail),
        };
        let mut rows: Vec<Row> = PROCESSES
            .iter()
            .zip(self.seconds.into_iter().zip(self.with_tail))
            .map(|(name, used)| row(*name, used))
            .collect();
        let server = |used: &[f64]| used[..SERVER].iter().sum::<f64>();
        rows.push(row(
            "server total",
            (server(&self.seconds), server(&self.with_tail)),
        ));
        rows
    }

    /// `{"wall_seconds", "tail_seconds", "device_requests", "<process>": {"cores",
    /// "ms_per_request", "ms_per_request_with_tail"}, …, "server total": {…}}`.
    pub fn json(&self, requests: usize) -> serde_json::Value {
        let round = |v: f64, places: i32| (v * 10f64.powi(places)).round() / 10f64.powi(places);
        let mut out = serde_json::Map::new();
        out.insert("wall_seconds".into(), round(self.wall_seconds, 3).into());
        out.insert("tail_seconds".into(), round(self.tail_seconds, 1).into());
        out.insert("device_requests".into(), requests.into());
        for r in self.rows(requests) {
            out.insert(
                r.name.into(),
                serde_json::json!({"cores": round(r.cores, 3),
                    "ms_per_request": round(r.ms_per_request, 4),
                    "ms_per_request_with_tail": round(r.ms_with_tail, 4)}),
            );
        }
        serde_json::Value::Object(out)
    }

    /// An aligned table for people.
    pub fn table(&self, requests: usize) -> String {
        let mut out = format!(
            "CPU over {:.2} s of {requests} device requests, then {:.0} s until the server was quiet (server total: proxy, services, PostgreSQL):\n{:<14} {:>7} {:>11} {:>11}\n",
            self.wall_seconds, self.tail_seconds, "process", "cores", "ms/request", "+tail"
        );
        for r in self.rows(requests) {
            out.push_str(&format!(
                "{:<14} {:>7.2} {:>11.3} {:>11.3}\n",
                r.name, r.cores, r.ms_per_request, r.ms_with_tail
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::works_for;

    #[test]
    fn postgres_processes_of_other_databases_are_left_out() {
        let ours = ["mdm_test_1".to_owned()];
        assert!(works_for(
            "postgres: postgres mdm_test_1 127.0.0.1(5000) idle",
            &ours
        ));
        assert!(works_for("postgres: autovacuum worker mdm_test_1", &ours));
        assert!(works_for("postgres: checkpointer ", &ours));
        assert!(works_for(
            "/usr/lib/postgresql/15/bin/postgres -D /var/lib",
            &ours
        ));
        assert!(!works_for(
            "postgres: postgres other 127.0.0.1(5001) idle",
            &ours
        ));
        assert!(!works_for("postgres: postgres other [local] idle", &ours));
        assert!(!works_for("postgres: autovacuum worker other", &ours));
    }
}
