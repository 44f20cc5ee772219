//! berth's pool of hyper HTTP/1.1 connections to one endpoint: idle connections kept for
//! the next calls, and a cap on how many are open at once.
//!
//! A connection comes back only when its answer was read to the end (and its request body,
//! if streamed, was sent whole), so an idle connection is one hyper holds ready. hyper's
//! connection task keeps reading an idle connection: bytes the engine sends unasked, or its
//! close, end that task, and the pool then finds the connection closed and drops it.
//!
//! That task runs on the runtime that opened the connection, and ends when that runtime
//! does (a client shared by `#[tokio::test]`s, each with its own runtime): a call takes only
//! the idle connections of its own runtime, so none is handed out whose task may vanish under
//! it; those of other runtimes are closed when a slot is needed, or found closed once their
//! runtime has ended.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::Either;
use hyper::client::conn::http1::SendRequest;
use tokio::runtime::Id as RuntimeId;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::outgoing::Outgoing;

/// An idle connection unused for this long is closed rather than reused (Go's default).
const IDLE_LIMIT: Duration = Duration::from_secs(90);

pub(crate) struct Pool {
    idle: Mutex<Vec<Idle>>,
    /// One permit per open connection, idle or leased.
    slots: Arc<Semaphore>,
    /// Calls waiting for a slot, and how they learn that a connection came back.
    waiting: AtomicUsize,
    returned: Notify,
}

struct Idle {
    sender: SendRequest<Outgoing>,
    permit: OwnedSemaphorePermit,
    since: Instant,
    /// The runtime its hyper task runs on.
    runtime: RuntimeId,
}

impl Idle {
    /// Closed by the engine (or by hyper, after bytes it did not ask for), or idle too long.
    fn expired(&self) -> bool {
        self.since.elapsed() > IDLE_LIMIT || self.sender.is_closed()
    }

    fn into_lease(self) -> Lease {
        Lease {
            sender: self.sender,
            permit: self.permit,
            reused: true,
            runtime: self.runtime,
        }
    }
}

/// A call counted among those waiting for a slot until it stops waiting, or is dropped
/// while it waits (a cancelled call).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Waiting<'a> {
        count.fetch_add(1, Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A connection a call is using. Dropped instead of given back, it is closed.
pub(crate) struct Lease {
    pub(crate) sender: SendRequest<Outgoing>,
    pub(crate) permit: OwnedSemaphorePermit,
    /// It carried earlier requests.
    pub(crate) reused: bool,
    /// The runtime its hyper task runs on.
    pub(crate) runtime: RuntimeId,
}

/// The runtime the calling task runs on.
pub(crate) fn current_runtime() -> RuntimeId {
    tokio::runtime::Handle::current().id()
}

/// What a call gets: an idle connection, or the right to open one.
pub(crate) enum Checkout {
    Reused(Lease),
    Open(OwnedSemaphorePermit),
}

impl Pool {
    pub(crate) fn new(max_connections: usize) -> Pool {
        Pool {
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(max_connections.max(1))),
            waiting: AtomicUsize::new(0),
            returned: Notify::new(),
        }
    }

    pub(crate) async fn checkout(&self) -> Checkout {
        loop {
            if let Some(lease) = self.take_idle().await {
                return Checkout::Reused(lease);
            }
            if let Ok(permit) = self.slots.clone().try_acquire_owned() {
                return Checkout::Open(permit);
            }
            // At the cap: wait for a connection to come back or to close.
            // Another runtime's idle connection holds a slot this one cannot use: closed,
            // the slot is free.
            if self.close_one_of_another_runtime() {
                continue;
            }
            let waiting = Waiting::new(&self.waiting);
            let mut returned = std::pin::pin!(self.returned.notified());
            returned.as_mut().enable();
            let runtime = current_runtime();
            let idle_now = self.lock().iter().any(|c| c.runtime == runtime);
            let outcome = if idle_now {
                None
            } else {
                let slot = std::pin::pin!(self.slots.clone().acquire_owned());
                match futures_util::future::select(slot, returned).await {
                    Either::Left((permit, _)) => permit.ok(),
                    Either::Right(_) => None,
                }
            };
            drop(waiting);
            if let Some(permit) = outcome {
                return Checkout::Open(permit);
            }
        }
    }

    /// The most recently used idle connection of this runtime, if hyper already holds it
    /// ready; `None` also when it is not ready yet (`checkout` then waits for it).
    pub(crate) fn take_ready(&self) -> Option<Lease> {
        let mut idle = self.lock();
        let at = own_newest(&mut idle, current_runtime())?;
        if !idle[at].sender.is_ready() {
            return None;
        }
        Some(idle.remove(at).into_lease())
    }

    /// The most recently used idle connection of this runtime that is still open and ready.
    async fn take_idle(&self) -> Option<Lease> {
        let runtime = current_runtime();
        loop {
            let mut idle = {
                let mut idle = self.lock();
                let at = own_newest(&mut idle, runtime)?;
                idle.remove(at)
            };
            // Ready at once unless hyper's task is still finishing the last answer.
            if idle.sender.ready().await.is_ok() {
                return Some(idle.into_lease());
            }
        }
    }

    /// Closes the least recently used idle connection of another runtime, if there is one.
    fn close_one_of_another_runtime(&self) -> bool {
        let runtime = current_runtime();
        let mut idle = self.lock();
        match idle.iter().position(|c| c.runtime != runtime) {
            Some(at) => {
                drop(idle.remove(at));
                true
            }
            None => false,
        }
    }

    /// A connection whose answer was read to the end, for the next call.
    pub(crate) fn give_back(&self, lease: Lease) {
        if lease.sender.is_closed() {
            return;
        }
        self.lock().push(Idle {
            sender: lease.sender,
            permit: lease.permit,
            since: Instant::now(),
            runtime: lease.runtime,
        });
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.returned.notify_one();
        }
    }

    /// Closes every idle connection. Called when a connection failed under a call: the
    /// engine (or the tunnel to it) has likely gone away, and the idle ones with it, though
    /// hyper may not have seen their end yet; the next call connects anew instead of
    /// sending on one of them and failing.
    pub(crate) fn forget_idle(&self) {
        let idle = std::mem::take(&mut *self.lock());
        drop(idle);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Where the most recently used idle connection of `runtime` is, dropping the expired ones
/// met on the way from the newest (usually none: the newest is this runtime's).
fn own_newest(idle: &mut Vec<Idle>, runtime: RuntimeId) -> Option<usize> {
    let mut at = idle.len();
    while at > 0 {
        at -= 1;
        if idle[at].expired() {
            idle.remove(at);
        } else if idle[at].runtime == runtime {
            return Some(at);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    /// A call cancelled while it waits for a slot is no longer counted as waiting (it was,
    /// forever: every connection given back then stored a wake-up for nobody).
    #[tokio::test]
    async fn a_cancelled_wait_for_a_slot_is_not_counted() {
        let pool = Pool::new(1);
        let Checkout::Open(_only_slot) = pool.checkout().await else {
            panic!("an empty pool opens a connection");
        };
        assert!(
            pool.checkout().now_or_never().is_none(),
            "the cap is reached"
        );
        assert_eq!(pool.waiting.load(Ordering::SeqCst), 0);
    }
}
