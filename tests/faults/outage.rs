//! What every case does around a fault, said once: read the call's stream until its error
//! and time it, check the error, bring the engine back, count the calls that work on the same
//! client afterwards, and record the row of the Reliability table (`docs/reliability.md`).
//! Reading the streams is `streams.rs`.

use std::future::Future;
use std::time::{Duration, Instant};

use berth::{Client, Error};
use futures_util::Stream;

use crate::common::{report, Cleanup};
use crate::harness::{self, Fault};
use crate::streams::{until_create, until_error};

/// An engine that a case takes down with `scripts/engines HOW SERVICE`, and how the same
/// client shows it works again: said once per engine, so that every case of it takes it
/// down, waits and checks the same way (the provided methods).
pub trait Engine {
    /// `(HOW, SERVICE)` for `scripts/engines`.
    const FAULT: (&'static str, &'static str);
    /// How long a stream may take to fail once the fault starts (a stopped service closes
    /// its connections later than a killed one).
    const ERROR_WITHIN: u64;
    /// A client of the engine, or `None` when it is not there (see `common::unavailable`).
    async fn connect() -> Option<Client>;
    /// The engine's ping (`OK` when it answers).
    async fn ping(client: &Client) -> berth::Result<String>;
    /// The engine's version call, counted in `after`, and what is checked of its answer.
    async fn version(client: &Client, after: &mut After);

    /// A client of the engine, and the cleanup of what the case creates with it, when this
    /// process can also take the engine down; `None` (a skip, or a failure under `CI`)
    /// otherwise.
    async fn setup() -> Option<(Client, Cleanup)> {
        if !harness::can_inject() {
            return None;
        }
        let client = Self::connect().await?;
        let cleanup = Cleanup::new(&client);
        Some((client, cleanup))
    }

    /// One call that leaves a connection idle in the pool, made just before the fault: the
    /// first call after the restart meets it, dead, and must not fail for it.
    async fn pool_one(client: &Client) {
        assert_eq!(Self::ping(client).await.expect("ping"), "OK");
    }

    /// The calls on the same client, once the engine is back, that show it answers again:
    /// a ping (where the dead pooled connection was), a second one (on the connection the
    /// first left idle), the version.
    async fn answers(client: &Client, after: &mut After) {
        for what in ["ping", "ping again"] {
            let ping = after.ok(what, Self::ping(client).await);
            assert_eq!(ping, "OK");
        }
        Self::version(client, after).await;
    }

    /// Takes the engine down (`FAULT`) while `stream` is in the middle of an answer, with a
    /// connection idle in the pool; the stream must end with an error within `ERROR_WITHIN`
    /// seconds, which `check` asserts on; then the engine is brought back and must answer
    /// the same client (`answers`). `what` names the stream in a timeout's message.
    async fn outage<S, T>(
        client: &Client,
        stream: &mut S,
        reading: Reading,
        what: &str,
        check: impl FnOnce(&Error),
    ) -> Cut<T>
    where
        S: Stream<Item = berth::Result<T>> + Unpin,
    {
        Self::pool_one(client).await;
        let (how, service) = Self::FAULT;
        let mut fault = Fault::start(how, service);
        if let Reading::OnceGone = reading {
            fault.gone().await;
        }
        let (items, error) = until_error(stream, Self::ERROR_WITHIN, what).await;
        let error_after = fault.at.elapsed();
        check(&error);
        let restart = fault.restore().await;
        let mut after = After::since(fault.at);
        Self::answers(client, &mut after).await;
        Cut {
            items,
            error,
            error_after,
            restart,
            after,
        }
    }

    /// The usual [`Engine::outage`]: the stream, read all along, ends with the body of
    /// `operation` cut short ([`assert_cut_short`]).
    async fn cut_short<S, T>(client: &Client, stream: &mut S, what: &str, operation: &str) -> Cut<T>
    where
        S: Stream<Item = berth::Result<T>> + Unpin,
    {
        let check = |error: &Error| assert_cut_short(error, operation);
        Self::outage(client, stream, Reading::Meanwhile, what, check).await
    }

    /// The events case: a subscription (`subscribe`) that has seen a container's create
    /// (`create`, `is_create`) is cut by the fault ([`Engine::cut_short`], `operation`);
    /// afterwards a new subscription on the same client sees a new create (three calls:
    /// subscribe, create, the event). The cut, and what the new subscription read.
    async fn events_cut<S, T, Subscribed, Created>(
        client: &Client,
        operation: &str,
        subscribe: impl Fn() -> Subscribed,
        create: impl Fn() -> Created,
        is_create: impl Fn(&T, &str) -> bool,
    ) -> (Cut<T>, Vec<T>)
    where
        Subscribed: Future<Output = berth::Result<S>>,
        Created: Future<Output = String>,
        S: Stream<Item = berth::Result<T>> + Unpin,
        T: std::fmt::Debug,
    {
        let mut live = subscribe().await.expect(operation);
        until_create(&mut live, "the create event", create(), &is_create).await;
        let what = format!("the {operation} stream");
        let mut cut = Self::cut_short(client, &mut live, &what, operation).await;
        let mut again = cut.after.ok(operation, subscribe().await);
        let what = "an event after the restart";
        let seen = until_create(&mut again, what, create(), &is_create).await;
        cut.after.calls += 2;
        (cut, seen)
    }
}

/// When the stream is read while the engine goes down.
pub enum Reading {
    /// All along: the error comes as soon as the connection breaks.
    Meanwhile,
    /// Only once the engine is gone: nothing drains the connection while it dies, so the
    /// engine is blocked writing (and the stream has not read everything by then).
    OnceGone,
}

/// A call's stream broken by a fault, and the engine back.
pub struct Cut<T> {
    /// What the stream delivered after the fault started, before its error.
    pub items: Vec<T>,
    pub error: Error,
    /// From the start of the fault to the error.
    pub error_after: Duration,
    /// How long `scripts/engines up` took.
    pub restart: Duration,
    /// The calls made on the same client since: the engine's `answers` first.
    pub after: After,
}

impl<T> Cut<T> {
    /// The row of this case: the error, the figures, and `extra` (what else it checked).
    pub fn record(&self, case: &str, extra: impl Into<String>) {
        let figures = self
            .after
            .figures(self.error_after, Some(self.restart), extra);
        record(case, &outcome(&self.error), figures);
    }
}

/// Counts the calls made after the fault, and when the first one succeeded.
pub struct After {
    fault_at: Instant,
    pub calls: usize,
    pub back_after: Option<Duration>,
}

impl After {
    /// Calls after a fault that started at `fault_at`.
    pub fn since(fault_at: Instant) -> After {
        After {
            fault_at,
            calls: 0,
            back_after: None,
        }
    }

    /// Records one successful call; the call must be OK (`expect`-style).
    pub fn ok<T>(&mut self, what: &str, result: berth::Result<T>) -> T {
        let value = result.unwrap_or_else(|e| panic!("{what} after the fault: {e:?}"));
        self.calls += 1;
        self.back_after
            .get_or_insert_with(|| self.fault_at.elapsed());
        value
    }

    /// The figures of a row: `error_after` and `restart` as measured, the calls counted here.
    pub fn figures(
        &self,
        error_after: Duration,
        restart: Option<Duration>,
        extra: impl Into<String>,
    ) -> Figures {
        Figures {
            error_after,
            restart,
            back_after: self.back_after.expect("no call succeeded after the fault"),
            calls: self.calls,
            extra: extra.into(),
        }
    }
}

/// What every case reports besides what berth did.
pub struct Figures {
    /// From the start of the kill/stop to the error.
    pub error_after: Duration,
    /// `scripts/engines up` (None: nothing was restarted).
    pub restart: Option<Duration>,
    /// From the start of the kill/stop to the first call that succeeded afterwards.
    pub back_after: Duration,
    /// Calls made on the same client afterwards, all of them successful.
    pub calls: usize,
    pub extra: String,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "error {:.2}s after the fault",
            self.error_after.as_secs_f64()
        )?;
        if let Some(restart) = self.restart {
            write!(f, "; restart took {:.1}s", restart.as_secs_f64())?;
        }
        write!(
            f,
            "; answering again {:.1}s after the fault; {} calls after, all OK",
            self.back_after.as_secs_f64(),
            self.calls
        )?;
        if !self.extra.is_empty() {
            write!(f, "; {}", self.extra)?;
        }
        Ok(())
    }
}

/// A row of the `fault` area: the case, what berth did, the figures.
pub fn record(case: &str, outcome: &str, figures: Figures) {
    report::record("fault", case, outcome, &figures.to_string());
}

/// The variant and the message, for the table: `Transport: ...`.
pub fn outcome(error: &Error) -> String {
    let variant = format!("{error:?}");
    let variant = variant
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_string();
    format!("Error::{variant}: {error}")
}

/// A body cut short by an engine that died: `Error::Transport` for `operation`, saying the
/// connection closed (or was reset) before the answer was complete.
pub fn assert_cut_short(error: &Error, operation: &str) {
    eprintln!("{operation} after the fault: {error}");
    match error {
        Error::Transport {
            operation: op,
            source,
            ..
        } => {
            assert_eq!(op, operation, "{error}");
            let text = source.to_string();
            assert!(
                text.contains("the engine closed the connection before its answer was complete")
                    || text.contains("reset by peer"),
                "a transport error that does not say the engine went away: {error}"
            );
        }
        other => {
            panic!("{operation}: expected Error::Transport for a body cut short, got {other:?}")
        }
    }
}
