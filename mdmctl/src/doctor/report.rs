//! One check's outcome, and the report of them all: a line per check with ✓, !, ✗ or -, the
//! fix under each one that failed, or the same as JSON for monitoring.

use serde::Serialize;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// As it should be.
    Pass,
    /// Works now, but needs attention soon (a certificate near expiry).
    Warn,
    /// Broken: devices will notice.
    Fail,
    /// Could not be looked at because something it needs failed (named in the summary).
    Skip,
}

impl Status {
    fn mark(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
            Status::Skip => "-",
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable name (`tls-enrollment`, `push-topic`, ...): what scripts and tests match on.
    pub name: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was found, in one line.
    pub summary: String,
    /// What to do about it, when there is something to do.
    pub hint: Option<String>,
}

impl Check {
    /// A passed check.
    pub fn pass(name: &'static str, summary: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Pass,
            summary: summary.into(),
            hint: None,
        }
    }

    /// A failed check and its fix.
    pub fn fail(name: &'static str, summary: impl Into<String>, hint: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Fail,
            summary: summary.into(),
            hint: Some(hint.into()),
        }
    }

    /// A check that passes today but needs doing something about.
    pub fn warn(name: &'static str, summary: impl Into<String>, hint: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Warn,
            summary: summary.into(),
            hint: Some(hint.into()),
        }
    }

    /// A check that could not run because of `why` (another check's failure).
    pub fn skip(name: &'static str, why: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Skip,
            summary: why.into(),
            hint: None,
        }
    }
}

/// Every check, in the order they ran.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// No check failed (warnings and skips aside).
    pub ok: bool,
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// The report of `checks`.
    pub fn new(checks: Vec<Check>) -> Report {
        let ok = checks.iter().all(|c| c.status != Status::Fail);
        Report { ok, checks }
    }

    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.count(Status::Fail)
    }

    fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// The report for people: a line per check, the fix indented under it.
    pub fn text(&self) -> String {
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for check in &self.checks {
            out.push_str(&format!(
                "{} {:width$}  {}\n",
                check.status.mark(),
                check.name,
                check.summary
            ));
            if let Some(hint) = &check.hint {
                out.push_str(&format!("  {:width$}  fix: {hint}\n", ""));
            }
        }
        // Not "N passed, N failed": test runners' summaries look like that, and this line must
        // never be taken for one in a CI log.
        out.push_str(&format!(
            "\n{} checks: {} ok, {} to watch, {} failing, {} not run\n",
            self.checks.len(),
            self.count(Status::Pass),
            self.count(Status::Warn),
            self.failed(),
            self.count(Status::Skip)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_shows_its_fix_and_fails_the_report() {
        let report = Report::new(vec![
            Check::pass("clock", "within 1 s"),
            Check::fail("push-topic", "no certificate has topic T", "upload it"),
            Check::skip("apns", "push-svc did not answer"),
        ]);
        assert!(!report.ok);
        assert_eq!(report.failed(), 1);
        let text = report.text();
        assert!(text.contains("✓ clock       within 1 s\n"), "{text}");
        assert!(
            text.contains("✗ push-topic  no certificate has topic T\n"),
            "{text}"
        );
        assert!(text.contains("              fix: upload it\n"), "{text}");
        assert!(
            text.contains("3 checks: 1 ok, 0 to watch, 1 failing, 1 not run"),
            "{text}"
        );
        let json = serde_json::to_value(&report).expect("json");
        assert_eq!(json["checks"][1]["status"], "fail");
        assert_eq!(json["ok"], false);
    }

    #[test]
    fn warnings_and_skips_do_not_fail_the_report() {
        let report = Report::new(vec![
            Check::warn("push-certificate", "expires in 10 days", "renew it"),
            Check::skip("apns", "no push-svc"),
        ]);
        assert!(report.ok);
    }
}
