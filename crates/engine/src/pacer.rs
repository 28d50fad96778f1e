//! When each request may be sent: the load shape turned into tickets.
//!
//! Closed and open loops differ only here. A connection asks for a ticket before every request;
//! in a closed loop the ticket is "now", in an open loop it is the next slot of a fixed schedule,
//! so the latency of a request that had to wait for a free connection is still measured from the
//! time it should have been sent (coordinated omission corrected, as wrk2 does). Each worker
//! thread owns one pacer with its share of the rate, so claiming a ticket costs no atomics.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// Permission to send one request.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    /// When the schedule meant the request to leave; `None` in a closed loop, where a request is
    /// meant to leave as soon as it can.
    pub intended: Option<Instant>,
    /// Whether the request falls in the measured window rather than the warm-up.
    pub measured: bool,
    /// The part of the measured window it belongs to, when the window is split (see
    /// [`Pacer::with_windows`]); 0 otherwise.
    pub window: usize,
}

#[derive(Debug)]
pub struct Pacer {
    /// Time between two scheduled sends; `None` for a closed loop.
    interval: Option<Duration>,
    start: Instant,
    /// Open loop: offset of this pacer's first slot from `start`, so that worker threads sharing
    /// a rate interleave their sends instead of sending together.
    phase: Duration,
    measure_start: Instant,
    deadline: Option<Instant>,
    /// Measured tickets still to hand out, when the run stops after a count.
    budget: Cell<Option<u64>>,
    /// Open loop: the index of the next unclaimed slot.
    next: Cell<u64>,
    /// Measured tickets handed out.
    claimed: Cell<u64>,
    /// When each part of the measured window starts; one part unless split.
    window_starts: Vec<Instant>,
}

/// When each of `n` equal parts of a measured window of `duration` from `measure_start` begins.
pub fn window_starts(measure_start: Instant, duration: Duration, n: usize) -> Vec<Instant> {
    let n = n.max(1);
    let len = duration / n as u32;
    (0..n).map(|i| measure_start + len * i as u32).collect()
}

impl Pacer {
    /// A pacer whose schedule starts at `start` (warm-up included); `rate` is requests per second
    /// for an open loop, `None` for a closed one.
    pub fn new(
        rate: Option<f64>,
        start: Instant,
        warmup: Duration,
        duration: Option<Duration>,
        count: Option<u64>,
    ) -> Pacer {
        let measure_start = start + warmup;
        Pacer {
            interval: rate.map(|r| Duration::from_secs_f64(1.0 / r)),
            start,
            phase: Duration::ZERO,
            measure_start,
            deadline: duration.map(|d| measure_start + d),
            budget: Cell::new(count),
            next: Cell::new(0),
            claimed: Cell::new(0),
            window_starts: vec![measure_start],
        }
    }

    /// Splits a timed measured window into `n` equal parts, each recorded apart: repeated
    /// measurements one after another on the same connections. A run stopped by count has one.
    pub fn with_windows(mut self, n: usize) -> Pacer {
        if let Some(d) = self.deadline.map(|d| d - self.measure_start) {
            self.window_starts = window_starts(self.measure_start, d, n);
        }
        self
    }

    /// When each part of the measured window starts.
    pub fn window_starts(&self) -> &[Instant] {
        &self.window_starts
    }

    /// The part of the measured window `t` falls in: 0 before it, the last after it. Called per
    /// request, so a comparison per part rather than a division.
    #[inline]
    pub fn window_at(&self, t: Instant) -> usize {
        self.window_starts
            .iter()
            .rposition(|start| t >= *start)
            .unwrap_or(0)
    }

    /// Shifts every slot of an open loop by `phase`.
    pub fn with_phase(mut self, phase: Duration) -> Pacer {
        self.phase = phase;
        self
    }

    pub fn measure_start(&self) -> Instant {
        self.measure_start
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn is_open(&self) -> bool {
        self.interval.is_some()
    }

    /// Whether a request counts by when its outcome arrives rather than by its ticket. A closed
    /// loop stopped by time measures what completed in the window, as wrk does: a server slower
    /// than the warm-up is long still answers warm-up requests in the window, and counting those
    /// answers is what its throughput is. An open loop counts by schedule, and a run stopped by
    /// count counts the requests it sent.
    pub fn measures_completions(&self) -> bool {
        self.interval.is_none() && self.budget.get().is_none()
    }

    /// The part of the measured window a request whose ticket was `ticket` and whose outcome
    /// arrived at `done` counts in, if it counts: by completion time or by ticket, as
    /// [`Pacer::measures_completions`] says.
    pub fn window(&self, ticket: &Ticket, done: Instant) -> Option<usize> {
        if self.measures_completions() {
            (done >= self.measure_start).then(|| self.window_at(done))
        } else {
            ticket.measured.then_some(ticket.window)
        }
    }

    fn slot(&self, index: u64) -> Instant {
        let interval = self.interval.unwrap_or_default();
        self.start
            + self.phase
            + Duration::from_nanos((interval.as_nanos() as u64).saturating_mul(index))
    }

    /// Claims the next send, or `None` once the run takes no more requests. `now` is the
    /// current time (a closed loop's send time); the caller usually has it at hand.
    pub fn claim(&self, now: Instant) -> Option<Ticket> {
        let when = match self.interval {
            None => now,
            Some(_) => self.slot(self.next.get()),
        };
        if self.deadline.is_some_and(|d| when >= d) {
            return None;
        }
        let measured = when >= self.measure_start;
        if measured {
            if let Some(left) = self.budget.get() {
                if left == 0 {
                    return None;
                }
                self.budget.set(Some(left - 1));
            }
            self.claimed.set(self.claimed.get() + 1);
        }
        self.next.set(self.next.get() + 1);
        Some(Ticket {
            intended: self.interval.map(|_| when),
            measured,
            window: if measured { self.window_at(when) } else { 0 },
        })
    }

    /// Open loop: the index and time of the next unclaimed slot, while the run still takes
    /// requests.
    pub fn next_slot(&self) -> Option<(u64, Instant)> {
        self.interval?;
        if self.budget.get() == Some(0) {
            return None;
        }
        let index = self.next.get();
        let when = self.slot(index);
        match self.deadline {
            Some(d) if when >= d => None,
            _ => Some((index, when)),
        }
    }

    /// Open loop: slots that fell due in the measured window but were never claimed.
    pub fn unclaimed(&self, end: Instant) -> u64 {
        let Some(interval) = self.interval else {
            return 0;
        };
        let end = self.deadline.map_or(end, |d| d.min(end));
        let step = interval.as_nanos().max(1);
        // Slots i with measure_start <= start + phase + i * interval < end.
        let zero = self.start + self.phase;
        let first = self
            .measure_start
            .saturating_duration_since(zero)
            .as_nanos()
            .div_ceil(step);
        let past_end = end
            .saturating_duration_since(zero)
            .as_nanos()
            .div_ceil(step);
        let mut due = past_end.saturating_sub(first) as u64;
        if let Some(left) = self.budget.get() {
            // A run that stops after a count has no slots past its last request.
            due = due.min(self.claimed.get() + left);
        }
        due.saturating_sub(self.claimed.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_loop_slots_follow_the_rate() {
        let start = Instant::now();
        let p = Pacer::new(
            Some(1000.0),
            start,
            Duration::from_millis(10),
            Some(Duration::from_millis(100)),
            None,
        );
        let mut measured = 0;
        let mut last = None;
        while let Some(t) = p.claim(Instant::now()) {
            let at = t.intended.unwrap();
            if let Some(prev) = last {
                assert_eq!(at - prev, Duration::from_millis(1));
            }
            last = Some(at);
            measured += u32::from(t.measured);
        }
        assert_eq!(measured, 100);
        assert_eq!(last.unwrap() - start, Duration::from_millis(109));
        assert_eq!(p.unclaimed(start + Duration::from_secs(1)), 0);
    }

    #[test]
    fn a_timed_closed_loop_counts_by_completion() {
        let start = Instant::now();
        let warm = Duration::from_millis(100);
        let closed = Pacer::new(None, start, warm, Some(Duration::from_secs(1)), None);
        let t = closed.claim(start).unwrap();
        assert!(!t.measured);
        assert!(closed
            .window(&t, start + Duration::from_millis(150))
            .is_some());
        assert!(closed
            .window(&t, start + Duration::from_millis(50))
            .is_none());
        let counted = Pacer::new(None, start, warm, None, Some(5));
        let t = counted.claim(start).unwrap();
        assert!(counted
            .window(&t, start + Duration::from_millis(150))
            .is_none());
    }

    #[test]
    fn windows_split_the_measured_time() {
        let start = Instant::now();
        let warm = Duration::from_millis(100);
        let ms = Duration::from_millis;
        let closed =
            Pacer::new(None, start, warm, Some(Duration::from_secs(3)), None).with_windows(3);
        assert_eq!(
            closed.window_starts(),
            [start + ms(100), start + ms(1100), start + ms(2100)]
        );
        let t = closed.claim(start).unwrap();
        assert_eq!(closed.window(&t, start + ms(50)), None);
        assert_eq!(closed.window(&t, start + ms(150)), Some(0));
        assert_eq!(closed.window(&t, start + ms(1150)), Some(1));
        assert_eq!(closed.window(&t, start + ms(9000)), Some(2));
        let open = Pacer::new(
            Some(10.0),
            start,
            Duration::ZERO,
            Some(Duration::from_secs(2)),
            None,
        )
        .with_windows(2);
        let tickets: Vec<_> = std::iter::from_fn(|| open.claim(start)).collect();
        assert_eq!(tickets.len(), 20);
        assert_eq!(tickets.iter().filter(|t| t.window == 1).count(), 10);
        // Counted by ticket, whenever the answer comes.
        assert_eq!(open.window(&tickets[0], start + ms(1500)), Some(0));
    }

    #[test]
    fn a_phase_shifts_every_slot() {
        let start = Instant::now();
        let p = Pacer::new(
            Some(100.0),
            start,
            Duration::ZERO,
            Some(Duration::from_secs(1)),
            None,
        )
        .with_phase(Duration::from_millis(5));
        let first = p.claim(start).unwrap().intended.unwrap();
        assert_eq!(first - start, Duration::from_millis(5));
        assert_eq!(p.unclaimed(start + Duration::from_secs(2)), 99);
        // A phase longer than the run: no slot of this pacer falls in it, none goes unsent.
        let late = Pacer::new(
            Some(0.0005),
            start,
            Duration::ZERO,
            Some(Duration::from_secs(3)),
            None,
        )
        .with_phase(Duration::from_secs(1000));
        assert!(late.next_slot().is_none());
        assert_eq!(late.unclaimed(start + Duration::from_secs(3)), 0);
    }

    #[test]
    fn unclaimed_slots_are_counted() {
        let start = Instant::now();
        let p = Pacer::new(
            Some(100.0),
            start,
            Duration::ZERO,
            Some(Duration::from_secs(1)),
            None,
        );
        for _ in 0..40 {
            p.claim(Instant::now()).unwrap();
        }
        assert_eq!(p.unclaimed(start + Duration::from_secs(2)), 60);
        assert_eq!(p.unclaimed(start + Duration::from_millis(500)), 10);
    }

    #[test]
    fn count_budget_excludes_warmup() {
        let start = Instant::now() - Duration::from_secs(1);
        let p = Pacer::new(None, start, Duration::ZERO, None, Some(3));
        assert_eq!((0..10).filter_map(|_| p.claim(Instant::now())).count(), 3);
        assert!(p.claim(Instant::now()).is_none());
        let p = Pacer::new(Some(10.0), start, Duration::from_millis(500), None, Some(2));
        let tickets: Vec<_> = (0..10).filter_map(|_| p.claim(Instant::now())).collect();
        assert_eq!(tickets.iter().filter(|t| !t.measured).count(), 5);
        assert_eq!(tickets.iter().filter(|t| t.measured).count(), 2);
        assert!(p.next_slot().is_none());
        assert_eq!(p.unclaimed(Instant::now() + Duration::from_secs(5)), 0);
    }
}
