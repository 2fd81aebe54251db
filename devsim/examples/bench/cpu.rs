//! Where the CPU went during a scenario: user + system time of every process of the stack
//! (PostgreSQL's backends summed), from /proc, as cores used over the scenario's wall time.

use std::collections::BTreeMap;
use std::time::Instant;
use testkit::Stack;

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

/// CPU seconds of every PostgreSQL process (the server forks a backend per connection).
fn postgres_cpu() -> f64 {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
        })
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_seconds)
        .sum()
}

fn cpu_snapshot(stack: &Stack) -> BTreeMap<&'static str, f64> {
    let mock = stack.apns.process().map_or(0.0, |p| cpu_seconds(p.id()));
    BTreeMap::from([
        ("proxy", cpu_seconds(stack.proxy.id())),
        ("enroll-svc", cpu_seconds(stack.enroll.id())),
        ("command-svc", cpu_seconds(stack.command.id())),
        ("push-svc", cpu_seconds(stack.push.id())),
        ("mock-apns", mock),
        ("postgres", postgres_cpu()),
        ("simulator", cpu_seconds(std::process::id())),
    ])
}

/// The CPU every process spends from [`CpuWatch::start`] to [`CpuWatch::split`].
pub struct CpuWatch<'a> {
    stack: &'a Stack,
    before: BTreeMap<&'static str, f64>,
    started: Instant,
}

impl<'a> CpuWatch<'a> {
    pub fn start(stack: &'a Stack) -> CpuWatch<'a> {
        CpuWatch {
            stack,
            before: cpu_snapshot(stack),
            started: Instant::now(),
        }
    }

    /// Cores used per process since the start.
    pub fn split(&self) -> serde_json::Value {
        let after = cpu_snapshot(self.stack);
        let seconds = self.started.elapsed().as_secs_f64();
        let mut split = serde_json::Map::new();
        for (name, start) in &self.before {
            let used = after.get(name).copied().unwrap_or(0.0) - start;
            split.insert(
                name.to_string(),
                serde_json::json!((used / seconds * 100.0).round() / 100.0),
            );
        }
        serde_json::Value::Object(split)
    }
}
