//! Polling for bytes before sleeping.
//!
//! A task that waits for the engine sleeps until the kernel wakes it, and on these virtual
//! machines that wake-up costs more than a local engine takes to answer `_ping`. So after
//! a request is sent, and between the pieces of a fast stream, berth may first poll the
//! socket for a short while, yielding to the runtime between tries (other tasks run, and
//! the runtime's I/O driver gets the turns it needs to see the socket become readable
//! without this task sleeping), and sleep only when nothing came. Polling costs CPU for as long as it lasts, and on a machine with few
//! cores it takes a core the engine could use, so a request polls only when its route's
//! answers have lately started well within the polling window: a `_ping` to a local engine
//! polls, an inspect that takes the engine 100 µs or a remote engine's answers do not. TLS
//! connections are never polled: their bytes are read only through the TLS stream.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::connect::Conn;

/// How long a client polls for an answer unless told otherwise.
pub(crate) const DEFAULT_ANSWER_POLLING: Duration = Duration::from_micros(100);
/// A longer budget is taken as this (polling for longer makes no sense, and it keeps the
/// arithmetic on budgets from overflowing).
const MAX_ANSWER_POLLING: Duration = Duration::from_secs(1);
/// Routes (operations, or a raw request's method and path) are hashed into this many
/// slots of answer times; two routes in one slot share their average.
const SLOTS: usize = 64;

/// One client's polling for answers.
#[derive(Debug)]
pub(crate) struct AnswerPolling {
    budget: Duration,
    /// Per slot: a moving average of how long answers took to start, in µs.
    answer_micros: [AtomicU32; SLOTS],
}

impl AnswerPolling {
    pub(crate) fn new(budget: Duration) -> AnswerPolling {
        AnswerPolling {
            budget: budget.min(MAX_ANSWER_POLLING),
            answer_micros: std::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Starts waiting for the answer to a request of `route` that was just sent.
    pub(crate) fn wait(&self, route: &str) -> Wait<'_> {
        Wait {
            average: &self.answer_micros[slot(route)],
            budget: self.budget,
            since: Instant::now(),
        }
    }
}

/// FNV-1a: a route's slot.
fn slot(route: &str) -> usize {
    let hash = route.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % SLOTS as u64) as usize
}

/// The wait for one answer.
pub(crate) struct Wait<'a> {
    average: &'a AtomicU32,
    budget: Duration,
    since: Instant,
}

impl Wait<'_> {
    /// Whether this route's answers lately started within three quarters of the budget.
    fn worth_polling(&self) -> bool {
        let average = Duration::from_micros(self.average.load(Ordering::Relaxed).into());
        !self.budget.is_zero() && average * 4 <= self.budget * 3
    }

    /// Reads the answer's first bytes by polling, when that is worth it; `None` when it was
    /// not, or when nothing came (the caller then waits asleep).
    pub(crate) async fn poll(&self, conn: &mut Conn) -> Option<io::Result<usize>> {
        if !self.worth_polling() {
            return None;
        }
        conn.poll_fill(self.budget).await
    }

    /// The answer has started: its time goes into the route's average. (Concurrent calls
    /// of one route may overwrite each other's update; an average missing a sample is
    /// fine.)
    pub(crate) fn answered(self) {
        let took = u64::try_from(self.since.elapsed().as_micros()).unwrap_or(u64::MAX);
        let old = u64::from(self.average.load(Ordering::Relaxed));
        let new = (old * 7 + took.min(10_000_000)) / 8;
        self.average
            .store(u32::try_from(new).unwrap_or(u32::MAX), Ordering::Relaxed);
    }
}

impl Conn {
    /// Polls for bytes for up to `budget`; `None` when none came (or for TLS).
    pub(crate) async fn poll_fill(&mut self, budget: Duration) -> Option<io::Result<usize>> {
        if !self.can_poll() {
            return None;
        }
        let until = Instant::now() + budget;
        loop {
            if let Some(read) = self.try_fill() {
                return Some(read);
            }
            if Instant::now() >= until {
                return None;
            }
            tokio::task::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::connect::Io;
    use tokio::io::AsyncWriteExt;

    fn conn(stream: tokio::net::UnixStream) -> Conn {
        Conn {
            io: Io::Unix(stream),
            buf: bytes::BytesMut::new(),
            reused: false,
            idle_since: None,
        }
    }

    #[tokio::test]
    async fn a_route_polls_while_its_answers_start_early() {
        let polling = AnswerPolling::new(Duration::from_millis(100));
        let (ours, mut engine) = tokio::net::UnixStream::pair().unwrap();
        let mut ours = conn(ours);

        // Nothing known yet: the first call polls, and finds an answer that is already there.
        engine.write_all(b"HTTP/1.1 200 OK\r\n").await.unwrap();
        let wait = polling.wait("SystemPing");
        assert!(wait.worth_polling());
        assert_eq!(wait.poll(&mut ours).await.unwrap().unwrap(), 17);
        assert_eq!(&ours.buf[..], b"HTTP/1.1 200 OK\r\n");
        wait.answered();
        assert!(polling.wait("SystemPing").worth_polling());

        // Answers that take longer than three quarters of the budget turn polling off for
        // their route only.
        for _ in 0..16 {
            let mut wait = polling.wait("ContainerList");
            wait.since -= Duration::from_millis(90);
            wait.answered();
        }
        assert!(!polling.wait("ContainerList").worth_polling());
        assert!(polling.wait("SystemPing").worth_polling());

        // ...and answers that come early again turn it back on.
        for _ in 0..16 {
            polling.wait("ContainerList").answered();
        }
        assert!(polling.wait("ContainerList").worth_polling());
    }

    #[tokio::test]
    async fn polling_gives_up_after_its_budget_and_never_happens_at_zero() {
        let (ours, _engine) = tokio::net::UnixStream::pair().unwrap();
        let mut ours = conn(ours);
        let started = Instant::now();
        assert!(ours.poll_fill(Duration::from_millis(20)).await.is_none());
        assert!(started.elapsed() >= Duration::from_millis(20));
        assert!(ours.buf.is_empty());

        assert!(!AnswerPolling::new(Duration::ZERO)
            .wait("SystemPing")
            .worth_polling());
        // An absurd budget is bounded, not a panic.
        let huge = AnswerPolling::new(Duration::MAX);
        assert_eq!(huge.budget, MAX_ANSWER_POLLING);
        assert!(huge.wait("SystemPing").worth_polling());
    }

    #[test]
    fn routes_spread_over_the_slots() {
        let used: std::collections::HashSet<usize> = [
            "SystemPing",
            "ContainerList",
            "ContainerInspect",
            "ImageList",
            "SystemInfo",
            "SystemVersion",
        ]
        .iter()
        .map(|r| slot(r))
        .collect();
        assert!(used.len() >= 5, "{used:?}");
    }
}
