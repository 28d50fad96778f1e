//! Sub-millisecond sleeps for the open loop's schedule.
//!
//! tokio's timer wheel has millisecond resolution, so a request scheduled for 10.2 ms would leave
//! at 11 ms or later, and since latency is measured from the intended time that lateness would be
//! charged to the server. Each worker thread instead owns one timerfd, registered with its
//! runtime and armed for the earliest waiting deadline. One driver task alone waits on it (so no
//! expiry is consumed by the wrong task) and wakes every sleeper whose time has come. A send then
//! leaves within the kernel's wake-up latency of its slot, not within a millisecond.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::unix::AsyncFd;

struct Fd(TimerFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// A precise timer shared by the tasks of one single-threaded runtime.
pub struct PreciseTimer {
    fd: Option<AsyncFd<Fd>>,
    /// When the timerfd is set to fire, if it is.
    armed: Cell<Option<Instant>>,
    /// Sleepers by deadline (and a sequence number, for equal deadlines).
    sleepers: RefCell<BTreeMap<(Instant, u64), Waker>>,
    next_id: Cell<u64>,
}

impl std::fmt::Debug for PreciseTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreciseTimer")
            .field("precise", &self.fd.is_some())
            .field("armed", &self.armed.get())
            .field("sleepers", &self.sleepers.borrow().len())
            .finish()
    }
}

impl PreciseTimer {
    /// Creates the timer and spawns its driver on the current `LocalSet`. Falls back to tokio's
    /// timer where a timerfd cannot be had.
    pub fn start() -> Rc<PreciseTimer> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .ok()
        .and_then(|fd| {
            // SAFETY: `Fd` owns its timerfd and neither replaces nor closes it while the AsyncFd
            // holds it; the descriptor is closed only when the AsyncFd (and so `Fd`) is dropped,
            // after it has been deregistered.
            #[allow(unsafe_code)]
            unsafe {
                AsyncFd::register(Fd(fd)).ok()
            }
        });
        let timer = Rc::new(PreciseTimer {
            fd,
            armed: Cell::new(None),
            sleepers: RefCell::new(BTreeMap::new()),
            next_id: Cell::new(0),
        });
        if timer.fd.is_some() {
            tokio::task::spawn_local(drive(Rc::downgrade(&timer)));
        }
        timer
    }

    /// Waits until `at`.
    pub async fn sleep_until(&self, at: Instant) {
        if self.fd.is_none() {
            return tokio::time::sleep_until(at.into()).await;
        }
        Sleep {
            timer: self,
            at,
            key: None,
        }
        .await
    }

    /// Sets the timerfd to fire at `at` if it is not set to fire sooner.
    fn arm(&self, at: Instant, now: Instant) {
        if self.armed.get().is_some_and(|armed| armed <= at) {
            return;
        }
        // A zero delay would disarm the timer instead.
        let delay = at
            .saturating_duration_since(now)
            .max(Duration::from_nanos(1));
        if let Some(fd) = &self.fd {
            if fd
                .get_ref()
                .0
                .set(
                    Expiration::OneShot(TimeSpec::from_duration(delay)),
                    TimerSetTimeFlags::empty(),
                )
                .is_ok()
            {
                self.armed.set(Some(at));
            }
        }
    }
}

/// The only task that waits on the timerfd: on each expiry, wakes the sleepers that are due and
/// arms the timer for the next one. Ends when the timer is dropped.
async fn drive(timer: std::rc::Weak<PreciseTimer>) {
    loop {
        let Some(t) = timer.upgrade() else { return };
        let Some(fd) = &t.fd else { return };
        let Ok(mut guard) = fd.readable().await else {
            return;
        };
        // Reading resets the expiry count; EAGAIN means another arming already consumed it.
        let _ = guard.get_inner().0.wait();
        guard.clear_ready();
        t.armed.set(None);
        let now = Instant::now();
        let mut sleepers = t.sleepers.borrow_mut();
        while let Some(entry) = sleepers.first_entry() {
            if entry.key().0 > now {
                let next = entry.key().0;
                drop(sleepers);
                t.arm(next, now);
                break;
            }
            entry.remove().wake();
        }
    }
}

struct Sleep<'a> {
    timer: &'a PreciseTimer,
    at: Instant,
    key: Option<(Instant, u64)>,
}

impl Future for Sleep<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        if now >= self.at {
            if let Some(key) = self.key.take() {
                self.timer.sleepers.borrow_mut().remove(&key);
            }
            return Poll::Ready(());
        }
        let key = match self.key {
            Some(key) => key,
            None => {
                let id = self.timer.next_id.get();
                self.timer.next_id.set(id + 1);
                let key = (self.at, id);
                self.key = Some(key);
                key
            }
        };
        self.timer
            .sleepers
            .borrow_mut()
            .insert(key, cx.waker().clone());
        self.timer.arm(self.at, now);
        Poll::Pending
    }
}

impl Drop for Sleep<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.timer.sleepers.borrow_mut().remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_each_waiter_at_its_time_within_a_fraction_of_a_millisecond() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        let lateness = local.block_on(&rt, async {
            let timer = PreciseTimer::start();
            let start = Instant::now() + Duration::from_millis(5);
            // Claimed out of order, as connections may, some sharing a deadline, 5 ms apart.
            let offsets = [10_000u64, 5_000, 20_000, 5_000, 15_000, 0, 25_000, 30_000];
            let handles: Vec<_> = offsets
                .iter()
                .map(|&us| {
                    let timer = timer.clone();
                    let at = start + Duration::from_micros(us);
                    tokio::task::spawn_local(async move {
                        timer.sleep_until(at).await;
                        Instant::now() - at
                    })
                })
                .collect();
            let mut late = Vec::new();
            for h in handles {
                late.push(h.await.unwrap());
            }
            late
        });
        // No waiter slept through its own expiry to be woken by a later one (5 ms on), and
        // typically each woke far sooner than tokio's 1 ms granularity allows.
        assert!(
            lateness.iter().all(|l| *l < Duration::from_millis(4)),
            "{lateness:?}"
        );
        let mut sorted = lateness.clone();
        sorted.sort();
        assert!(
            sorted[sorted.len() / 2] < Duration::from_millis(1),
            "{lateness:?}"
        );
    }
}
