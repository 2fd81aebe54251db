//! Captured output of a child process: reader threads append its stdout and stderr lines to a
//! bounded buffer and bump a watch channel so waiters wake without sleeping.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

/// Lines kept per child; older lines are dropped.
const MAX_LINES: usize = 2000;

/// The shared line buffer of one child.
#[derive(Clone)]
pub(crate) struct Output {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Bumped after every change to `state`.
    changed: watch::Sender<u64>,
}

/// What the reader threads have seen so far.
pub(crate) struct State {
    lines: VecDeque<String>,
    /// Lines ever pushed, including those dropped from the front of `lines`.
    total: u64,
    /// Streams not yet at end of file.
    open_streams: usize,
}

impl State {
    /// The first line containing `needle` among lines numbered `from..` (numbering counts every
    /// line ever pushed), and the number to continue from when nothing was found.
    pub(crate) fn find(&self, needle: &str, from: u64) -> (Option<String>, u64) {
        let first_kept = self.total - self.lines.len() as u64;
        let start = from.max(first_kept);
        let skip = usize::try_from(start - first_kept).unwrap_or(usize::MAX);
        let found = self
            .lines
            .iter()
            .skip(skip)
            .find(|line| line.contains(needle))
            .cloned();
        (found, self.total)
    }

    /// Whether every stream has reached end of file: no more lines will come.
    pub(crate) fn closed(&self) -> bool {
        self.open_streams == 0
    }
}

impl Output {
    /// A buffer that expects `streams` readers.
    pub(crate) fn new(streams: usize) -> Output {
        Output {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    lines: VecDeque::new(),
                    total: 0,
                    open_streams: streams,
                }),
                changed: watch::channel(0).0,
            }),
        }
    }

    /// Lock the state (a panicked reader thread does not poison it for readers of the logs).
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A receiver that sees a change after every new line or closed stream. Subscribe before
    /// looking at the state so no change is missed.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.changed.subscribe()
    }

    /// The last `max` lines, joined with newlines.
    pub(crate) fn tail(&self, max: usize) -> String {
        let state = self.state();
        let skip = state.lines.len().saturating_sub(max);
        let mut text = String::new();
        if skip > 0 || state.total > state.lines.len() as u64 {
            let omitted = state.total - (state.lines.len() - skip) as u64;
            text.push_str(&format!("[... {omitted} earlier lines omitted]\n"));
        }
        for line in state.lines.iter().skip(skip) {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Start a thread that reads `stream` line by line into the buffer until end of file,
    /// echoing each line to stderr as `[name] line` when `echo` is set.
    pub(crate) fn spawn_reader(
        &self,
        thread_name: String,
        prefix: String,
        echo: bool,
        stream: impl Read + Send + 'static,
    ) -> std::io::Result<()> {
        let output = self.clone();
        std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    match reader.read_until(b'\n', &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let line = String::from_utf8_lossy(&buf);
                            let line = line.trim_end_matches(['\n', '\r']);
                            if echo {
                                eprintln!("[{prefix}] {line}");
                            }
                            output.push(line.to_owned());
                        }
                    }
                }
                output.close_stream();
            })
            .map(drop)
    }

    fn push(&self, line: String) {
        {
            let mut state = self.state();
            if state.lines.len() == MAX_LINES {
                state.lines.pop_front();
            }
            state.lines.push_back(line);
            state.total += 1;
        }
        self.shared.changed.send_modify(|n| *n += 1);
    }

    fn close_stream(&self) {
        {
            let mut state = self.state();
            state.open_streams = state.open_streams.saturating_sub(1);
        }
        self.shared.changed.send_modify(|n| *n += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_and_finds_from_a_position() {
        let output = Output::new(1);
        for i in 0..(MAX_LINES + 5) {
            output.push(format!("line <{i}>"));
        }
        let state = output.state();
        assert_eq!(state.lines.len(), MAX_LINES);
        assert_eq!(state.find("<3>", 0).0, None, "line 3 was dropped");
        assert_eq!(state.find("<2004>", 0).0.as_deref(), Some("line <2004>"));
        let (found, next) = state.find("<10>", 0);
        assert_eq!(found.as_deref(), Some("line <10>"));
        assert_eq!(next, (MAX_LINES + 5) as u64);
        assert_eq!(state.find("<10>", next).0, None);
        drop(state);
        assert!(output
            .tail(2)
            .starts_with("[... 2003 earlier lines omitted]\nline <2003>\n"));
    }
}
