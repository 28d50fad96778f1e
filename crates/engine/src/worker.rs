//! The load loop: worker threads, their connections, and the one loop every connection runs.
//!
//! Each worker thread is pinned to its CPU and runs its own single-threaded tokio runtime, with
//! its share of the connections and of the rate; nothing crosses threads per request. Every
//! connection runs [`drive`]: take a ticket from the pacer, send, read until the response ends,
//! record. The load shape lives in the pacer, so closed and open loops share this one loop. In an
//! open loop a supervisor opens more connections when every open one is busy and the schedule
//! is falling behind, up to the cap.
//!
//! All connections of a thread read into one scratch buffer, so an idle connection costs a socket
//! and a small task, not a buffer: that is what keeps 10,000 connections in a few megabytes.
//!
//! WebSocket runs use the same loop. In echo a ticket sends a message and the echo answers it.
//! In idle a ticket opens a connection (the handshake is what is measured), which is then held
//! by a task of its own. In broadcast the publishing members run the loop, each ticket a
//! message; every member, publishing or not, listens on a task of its own and records each
//! delivery against the intended send time the message carries. The `Role` of a connection,
//! from its number in the run, says which it is.

use std::cell::{Cell, RefCell, RefMut};
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::LocalSet;

use crate::cpu;
use crate::http::{Progress, ResponseParser};
use crate::pacer::Pacer;
use crate::plan::{split, Load, Plan, Stop, WsMode};
use crate::record::{micros, ErrorKind, Recording, LATE_AFTER};
use crate::timer::PreciseTimer;
use crate::ws::{self, Arrival, Seen, SeenBySender, Stamp, WsConn};

const SCRATCH: usize = 64 * 1024;
/// How long a due slot may stay unclaimed before the supervisor opens another connection; long
/// enough for a connection that is just finishing to take it.
const SUPERVISOR_GRACE: Duration = Duration::from_millis(1);
/// Longest mix cycle kept; finer weights are rounded to this resolution.
const MAX_CYCLE: u64 = 100_000;
/// First wait of a connection that found no file descriptor free; doubled on each further
/// failure up to [`DESCRIPTOR_BACKOFF_MAX`], so a process at its limit waits instead of spinning
/// through connect attempts.
const DESCRIPTOR_BACKOFF: Duration = Duration::from_millis(10);
const DESCRIPTOR_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Broadcast: how long members keep receiving after the last message was published. A message
/// that has not reached a member by then counts as lost.
pub const BROADCAST_DRAIN: Duration = Duration::from_secs(1);
/// Broadcast: time between the last member's handshake and the run's start, for the server to
/// add it to its room (servers do that after they answer the handshake).
const BROADCAST_SETTLE: Duration = Duration::from_millis(50);

/// Counters a caller may read while a run goes on, to show progress or to judge whether the
/// server has settled; and a switch to end the run early.
#[derive(Debug, Default)]
pub struct Live {
    workers: OnceLock<Vec<Arc<WorkerLive>>>,
    stopped: Arc<AtomicBool>,
}

#[derive(Debug, Default)]
#[repr(align(128))]
struct WorkerLive {
    /// Requests answered or failed, warm-up included.
    done: AtomicU64,
    errors: AtomicU64,
}

impl Live {
    pub fn new() -> Live {
        Live::default()
    }

    /// Requests finished so far (answered or failed), warm-up included.
    pub fn done(&self) -> u64 {
        self.sum(|w| &w.done)
    }

    /// Requests that failed so far, warm-up included.
    pub fn errors(&self) -> u64 {
        self.sum(|w| &w.errors)
    }

    /// Ends the run within a few milliseconds, as if its time were up: what is in flight is
    /// cancelled. What the report says of a stopped run covers only the time before the stop;
    /// callers stop runs whose report they do not use (a warm-up that has settled).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    fn sum(&self, f: impl Fn(&WorkerLive) -> &AtomicU64) -> u64 {
        self.workers.get().map_or(0, |ws| {
            ws.iter().map(|w| f(w).load(Ordering::Relaxed)).sum()
        })
    }
}

/// What the workers measured, merged, with the engine's own CPU use.
#[derive(Debug)]
pub struct RunOutput {
    /// The whole measured window.
    pub whole: WindowOutput,
    /// Its parts when the plan splits it (see [`Plan::windows`]), in order; one part otherwise.
    pub windows: Vec<WindowOutput>,
    /// When the measured window began (the warm-up ended).
    pub measure_start: Instant,
    pub threads: usize,
    pub started_at: std::time::SystemTime,
    /// Whether [`Live::stop`] ended the run; then the windows' `elapsed` is the time measured
    /// before the stop, not the time asked for.
    pub stopped: bool,
}

/// What was measured in a stretch of time.
#[derive(Debug)]
pub struct WindowOutput {
    pub recording: Recording,
    /// Its length.
    pub elapsed: Duration,
    /// CPU time the engine's worker threads used in it.
    pub cpu: Duration,
    /// Share of the machine's CPU used by other processes in it (0..1).
    pub other_load: Option<f64>,
}

/// Drives `plan` to completion. Blocks the calling thread, which only watches; `on_tick` is
/// called about ten times a second while the run goes on, for progress display.
pub fn run(plan: &Plan, live: &Live, mut on_tick: impl FnMut()) -> std::io::Result<RunOutput> {
    let initial = plan.initial_connections();
    let threads = plan.threads.min(initial).max(1);
    let requests = plan.encoded_requests();
    let heads: Arc<[bool]> = plan.requests.iter().map(|r| r.is_head()).collect();
    let cycle: Arc<[u16]> =
        mix_cycle(&plan.requests.iter().map(|r| r.weight).collect::<Vec<_>>()).into();
    let connections = split(initial as u64, threads);
    let caps = match plan.load {
        Load::Constant {
            max_connections, ..
        } => split(max_connections as u64, threads),
        Load::Closed { .. } => connections.clone(),
    };
    let windows = plan.windows.max(1);
    let counts = match plan.stop {
        Stop::Count(n) => split(n, threads).into_iter().map(Some).collect(),
        Stop::Duration(_) => vec![None; threads],
    };
    let duration = match plan.stop {
        Stop::Duration(d) => Some(d),
        Stop::Count(_) => None,
    };
    let rate = match plan.load {
        Load::Constant { rate, .. } => Some(rate / threads as f64),
        Load::Closed { .. } => None,
    };
    // Broadcast: which connections publish decides each thread's share of the rate.
    let offsets: Vec<usize> = connections
        .iter()
        .scan(0usize, |at, &n| {
            let first = *at;
            *at += n as usize;
            Some(first)
        })
        .collect();
    let room = plan.ws.as_ref().and_then(|w| match w.mode {
        WsMode::Broadcast { rooms, senders } => Some((initial / rooms, senders)),
        _ => None,
    });
    let rates: Vec<Option<f64>> = match (room, plan.load.clone()) {
        (Some((size, senders)), Load::Constant { rate: total, .. }) => {
            let publishing = |t: usize| {
                (offsets[t]..offsets[t] + connections[t] as usize)
                    .filter(|g| g % size < senders)
                    .count()
            };
            let all = (initial / size * senders) as f64;
            (0..threads)
                .map(|t| match publishing(t) {
                    0 => None,
                    n => Some(total * n as f64 / all),
                })
                .collect()
        }
        _ => vec![rate; threads],
    };
    let run_id = fastrand::u32(..);
    let hold = plan
        .ws
        .as_ref()
        .and_then(|w| match (w.mode, plan.load.clone(), plan.stop) {
            (WsMode::Idle { hold }, Load::Constant { rate, .. }, Stop::Count(n)) => {
                Some(plan.warmup + Duration::from_secs_f64(n as f64 / rate) + hold)
            }
            _ => None,
        });
    let _ = live
        .workers
        .set((0..threads).map(|_| Arc::default()).collect());
    let live_workers = live.workers.get().map(Vec::as_slice).unwrap_or(&[]);

    // Workers say when they are ready, then wait for the common start time. If anything fails
    // before the start is sent, dropping the senders releases every worker.
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let mut start_txs = Vec::with_capacity(threads);
    let started_at = std::time::SystemTime::now();
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for t in 0..threads {
            let setup = WorkerSetup {
                cpu: plan.cpus.as_ref().map(|c| c[t % c.len()]),
                addr: plan.target.addr(),
                ws: plan.ws.as_ref().map(|w| WsSetup {
                    origin: ws::origin_headers(&plan.target),
                    path: w.path.clone(),
                    message_size: w.message_size,
                    first: offsets[t],
                    room,
                    hold_after: hold,
                    run_id,
                }),
                requests: requests.clone(),
                heads: heads.clone(),
                cycle: cycle.clone(),
                cycle_offset: t * cycle.len() / threads,
                connections: connections[t] as usize,
                cap: caps[t].max(connections[t]) as usize,
                rate: rates[t],
                // Thread t's slots fall between those of the others: t / (threads * rate_t).
                phase: match (rate, room) {
                    (Some(r), None) => Duration::from_secs_f64(t as f64 / (threads as f64 * r)),
                    _ => Duration::ZERO,
                },
                count: counts[t],
                duration,
                windows,
                ramp: plan.ramp,
                connect_first: plan.connect_first,
                warmup: plan.warmup,
                stop: live.stopped.clone(),
                connect_timeout: plan.connect_timeout,
                request_timeout: plan.request_timeout,
            };
            let live = live_workers.get(t).cloned().unwrap_or_default();
            let ready = ready_tx.clone();
            let (start_tx, start_rx) = mpsc::channel::<Instant>();
            start_txs.push(start_tx);
            handles.push(
                std::thread::Builder::new()
                    .name(format!("stackwise-load-{t}"))
                    .spawn_scoped(scope, move || worker(setup, live, ready, start_rx))?,
            );
        }
        drop(ready_tx);
        // A worker that failed to set up sends nothing; then no one starts, and its error is
        // the one reported.
        let all_ready = ready_rx.iter().take(threads).count() == threads;
        // A broadcast's members have joined their rooms by now; the server gets a moment to take
        // the last of them in before anything is published.
        let settle = if room.is_some() {
            BROADCAST_SETTLE
        } else {
            Duration::ZERO
        };
        let start = Instant::now() + settle;
        if all_ready {
            for tx in start_txs {
                let _ = tx.send(start);
            }
        } else {
            drop(start_txs);
        }

        let measure_start = start + plan.warmup;
        // The machine's CPU counters are read as each window starts, to tell other load apart.
        let boundaries =
            crate::pacer::window_starts(measure_start, duration.unwrap_or_default(), windows);
        let window_len = duration.map(|d| d / windows as u32);
        let mut ticks = Vec::with_capacity(windows + 1);
        while handles.iter().any(|h| !h.is_finished()) {
            let tick = Duration::from_millis(100);
            let wait = match boundaries.get(ticks.len()) {
                Some(b) => tick.min(b.saturating_duration_since(Instant::now())),
                None => tick,
            };
            std::thread::sleep(wait);
            while boundaries
                .get(ticks.len())
                .is_some_and(|b| Instant::now() >= *b)
            {
                ticks.push(cpu::machine_cpu_ticks());
            }
            on_tick();
        }
        while ticks.len() <= windows {
            ticks.push(cpu::machine_cpu_ticks());
        }

        let mut parts: Vec<WindowOutput> = (0..windows)
            .map(|_| WindowOutput {
                recording: Recording::new(plan.requests.len()),
                elapsed: window_len.unwrap_or_default(),
                cpu: Duration::ZERO,
                other_load: None,
            })
            .collect();
        let mut last_done = measure_start;
        let mut stopped_at: Option<Instant> = None;
        let mut results = Vec::with_capacity(threads);
        for h in handles {
            results.push(
                h.join()
                    .map_err(|_| std::io::Error::other("a load worker panicked"))
                    .and_then(|r| r),
            );
        }
        // Report the error that stopped the run, not the abandonment it caused in the others.
        if let Some(pos) = results.iter().position(|r| {
            r.as_ref()
                .is_err_and(|e| e.kind() != std::io::ErrorKind::Interrupted)
        }) {
            return Err(results.swap_remove(pos).err().expect("an error"));
        }
        for r in results {
            let done = r?;
            for (part, (rec, cpu)) in parts.iter_mut().zip(done.windows.iter().zip(&done.cpu)) {
                part.recording.merge(rec);
                part.cpu += *cpu;
            }
            last_done = last_done.max(done.last_done);
            if let Some(at) = done.stopped_at {
                stopped_at = Some(stopped_at.map_or(at, |s| s.max(at)));
            }
        }
        if duration.is_none() {
            parts[0].elapsed = last_done.saturating_duration_since(measure_start);
        } else if let (Some(stop), Some(len)) = (stopped_at, window_len) {
            // A stopped run measured only until the stop; each part says how much of it it got.
            for (part, from) in parts.iter_mut().zip(&boundaries) {
                part.elapsed = stop.saturating_duration_since(*from).min(len);
            }
        }
        for (i, part) in parts.iter_mut().enumerate() {
            part.other_load = other_load(ticks[i], ticks[i + 1], part.cpu, part.elapsed);
        }
        let mut whole = WindowOutput {
            recording: Recording::new(plan.requests.len()),
            elapsed: parts.iter().map(|p| p.elapsed).sum(),
            cpu: parts.iter().map(|p| p.cpu).sum(),
            other_load: None,
        };
        for part in &parts {
            whole.recording.merge_in_time(&part.recording);
        }
        whole.other_load = other_load(ticks[0], ticks[windows], whole.cpu, whole.elapsed);
        Ok(RunOutput {
            whole,
            windows: parts,
            measure_start,
            threads,
            started_at,
            stopped: stopped_at.is_some(),
        })
    })
}

/// Other processes' share of the machine between two readings of its counters: the machine's
/// busy share minus the engine's own, both as shares of all CPUs.
fn other_load(
    from: Option<(u64, u64)>,
    to: Option<(u64, u64)>,
    ours: Duration,
    elapsed: Duration,
) -> Option<f64> {
    match (from, to) {
        (Some((busy0, total0)), Some((busy1, total1))) if total1 > total0 => {
            let machine = busy1.saturating_sub(busy0) as f64 / (total1 - total0) as f64;
            let ours =
                ours.as_secs_f64() / (elapsed.as_secs_f64().max(1e-9) * cpu::online_cpus() as f64);
            Some((machine - ours).clamp(0.0, 1.0))
        }
        _ => None,
    }
}

/// A cycle of request indices in which each appears as often as its weight, spread evenly
/// (smooth weighted round robin), so a mix is followed exactly rather than by chance.
fn mix_cycle(weights: &[u32]) -> Vec<u16> {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    let g = weights
        .iter()
        .fold(0u64, |g, &w| gcd(g, u64::from(w)))
        .max(1);
    let scale = |w: u32| -> i64 {
        let w = u64::from(w) / g;
        let total = total / g;
        if total > MAX_CYCLE {
            ((w * MAX_CYCLE) / total).max(1) as i64
        } else {
            w as i64
        }
    };
    let weights: Vec<i64> = weights.iter().map(|&w| scale(w)).collect();
    let len: i64 = weights.iter().sum();
    let mut current = vec![0i64; weights.len()];
    (0..len)
        .map(|_| {
            for (c, w) in current.iter_mut().zip(&weights) {
                *c += w;
            }
            let (best, _) = current
                .iter()
                .enumerate()
                .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
                .expect("the mix is not empty");
            current[best] -= len;
            best as u16
        })
        .collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// What a worker needs to speak WebSocket.
#[derive(Clone)]
struct WsSetup {
    /// The headers that name the server in the upgrade (`Host`, `Authorization`).
    origin: String,
    /// The upgrade's path; `{room}` is each connection's room.
    path: String,
    message_size: usize,
    /// The run-wide number of this worker's first connection.
    first: usize,
    /// Broadcast: the members of each room, and how many of them publish.
    room: Option<(usize, usize)>,
    /// Idle: how long after the start the hold ends.
    hold_after: Option<Duration>,
    /// Marks this run's broadcast messages.
    run_id: u32,
}

struct WorkerSetup {
    cpu: Option<usize>,
    addr: std::net::SocketAddr,
    ws: Option<WsSetup>,
    requests: Arc<[Arc<[u8]>]>,
    heads: Arc<[bool]>,
    cycle: Arc<[u16]>,
    cycle_offset: usize,
    connections: usize,
    cap: usize,
    rate: Option<f64>,
    phase: Duration,
    count: Option<u64>,
    duration: Option<Duration>,
    windows: usize,
    ramp: Duration,
    connect_first: bool,
    warmup: Duration,
    /// Set by [`Live::stop`].
    stop: Arc<AtomicBool>,
    connect_timeout: Duration,
    request_timeout: Duration,
}

/// How often a worker looks at the stop switch: off the load loop, on a timer of its own.
const STOP_POLL: Duration = Duration::from_millis(10);

/// What one worker thread did.
struct WorkerDone {
    /// Per part of the measured window.
    windows: Vec<Recording>,
    /// When its last measured request finished.
    last_done: Instant,
    /// When [`Live::stop`] ended it, if it did.
    stopped_at: Option<Instant>,
    /// CPU time it used in each part of the measured window.
    cpu: Vec<Duration>,
}

/// One worker thread.
fn worker(
    setup: WorkerSetup,
    live: Arc<WorkerLive>,
    ready: mpsc::Sender<()>,
    start: mpsc::Receiver<Instant>,
) -> std::io::Result<WorkerDone> {
    if let Some(cpu) = setup.cpu {
        cpu::pin_current_thread(cpu)?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = LocalSet::new();
    // The timerfd registers with this runtime's reactor and its driver runs on this set.
    let timer = {
        let _runtime = runtime.enter();
        let _local = local.enter();
        PreciseTimer::start()
    };
    // Broadcast: every member joins its room before the run starts, so no measured message is
    // published to a room still filling up.
    let mut joined = Vec::new();
    if let Some(w) = setup.ws.as_ref().filter(|w| w.room.is_some()) {
        joined = local.block_on(&runtime, join_rooms(&setup, w));
    }
    // A worker that fails before this point drops `ready` unsent, which stops the run.
    let _ = ready.send(());
    drop(ready);
    let start = start.recv().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "the run was abandoned before it started",
        )
    })?;
    let pacer = Pacer::new(setup.rate, start, setup.warmup, setup.duration, setup.count)
        .with_phase(setup.phase)
        .with_windows(setup.windows);
    let deadline = pacer.deadline();
    let shared = Rc::new_cyclic(|me| Shared {
        pacer,
        timer,
        addr: setup.addr,
        start,
        ws: setup.ws.clone(),
        members: RefCell::new(Vec::new()),
        joined: RefCell::new(joined),
        me: me.clone(),
        recordings: RefCell::new(
            (0..setup.windows)
                .map(|_| Recording::new(setup.requests.len()))
                .collect(),
        ),
        requests: setup.requests,
        heads: setup.heads,
        cycle: setup.cycle,
        next_in_cycle: Cell::new(setup.cycle_offset),
        connect_timeout: setup.connect_timeout,
        request_timeout: setup.request_timeout,
        scratch: RefCell::new(vec![0u8; SCRATCH].into_boxed_slice()),
        open: Rc::new(Cell::new(0)),
        tasks: Cell::new(0),
        all_done: Notify::new(),
        last_done: Cell::new(start),
        live,
        pending: RefCell::new(Vec::with_capacity(setup.connections)),
        first_send: (setup.connect_first && setup.rate.is_none() && !setup.ramp.is_zero())
            .then(|| start + setup.ramp),
    });

    // The thread's CPU time as each part of the measured window starts.
    let cpu_marks = Rc::new(RefCell::new(Vec::with_capacity(setup.windows + 1)));
    // Idle: the thread's CPU time when its ramp ended; the hold after it is not measured.
    let ramp_cpu = Cell::new(None);
    local.block_on(&runtime, async {
        let marks = cpu_marks.clone();
        let at = shared.pacer.window_starts().to_vec();
        let mark_shared = shared.clone();
        tokio::task::spawn_local(async move {
            for (i, start) in at.into_iter().enumerate() {
                tokio::time::sleep_until(start.into()).await;
                marks.borrow_mut().push(cpu::thread_cpu_time());
                // A window's peak starts from what is open when it begins.
                let open = mark_shared.open.get();
                let mut rec = mark_shared.rec(i);
                rec.peak_connections = rec.peak_connections.max(open);
            }
        });
        // A closed loop may ramp its connections up over part of the warm-up.
        let ramp = if shared.pacer.is_open() {
            Duration::ZERO
        } else {
            setup.ramp
        };
        let first = setup.ws.as_ref().map_or(0, |w| w.first);
        for i in 0..setup.connections {
            let at = (!ramp.is_zero())
                .then(|| start + ramp.mul_f64(i as f64 / setup.connections as f64));
            match shared.role(first + i) {
                Role::Member {
                    publisher: None, ..
                } => spawn_member(&shared, first + i, at),
                _ => spawn_connection(&shared, first + i, at),
            }
        }
        if shared.pacer.is_open() && !shared.is_broadcast() {
            tokio::task::spawn_local(supervise(shared.clone(), setup.cap));
        }
        // A run stopped by count ends when its last request does; a timed run lasts its time,
        // even when the schedule has nothing left to send before the end (a tiny rate).
        let counted = deadline.is_none();
        let finished = async {
            if !counted {
                std::future::pending::<()>().await;
            }
            while shared.tasks.get() > 0 {
                shared.all_done.notified().await;
            }
        };
        let stop = setup.stop.clone();
        let stopped = async move {
            let mut poll = tokio::time::interval(STOP_POLL);
            while !stop.load(Ordering::Relaxed) {
                poll.tick().await;
            }
        };
        let time_up = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        let stop = setup.stop.clone();
        tokio::select! {
            _ = finished => {}
            _ = time_up => {}
            _ = stopped => return,
        }
        // Broadcast: what is on its way still arrives; idle: the connections opened are held.
        let after = if shared.is_broadcast() {
            Some(Instant::now() + BROADCAST_DRAIN)
        } else {
            setup
                .ws
                .as_ref()
                .and_then(|w| w.hold_after)
                .map(|h| start + h)
        };
        if shared.ws.as_ref().is_some_and(|w| w.hold_after.is_some()) {
            ramp_cpu.set(Some(cpu::thread_cpu_time()));
        }
        if let Some(at) = after {
            let stopped = async move {
                let mut poll = tokio::time::interval(STOP_POLL);
                while !stop.load(Ordering::Relaxed) {
                    poll.tick().await;
                }
            };
            tokio::select! {
                _ = tokio::time::sleep_until(at.into()) => {}
                _ = stopped => {}
            }
            if shared.ws.as_ref().is_some_and(|w| w.hold_after.is_some()) {
                shared.rec(0).held = shared.open.get();
            }
        }
    });
    let cpu_at_end = ramp_cpu.get().unwrap_or_else(cpu::thread_cpu_time);
    let stopped = setup.stop.load(Ordering::Relaxed);
    // A broadcast's drain and an idle hold go past the deadline; they end now.
    let lingers = setup
        .ws
        .as_ref()
        .is_some_and(|w| w.room.is_some() || w.hold_after.is_some());
    let end = match deadline {
        Some(d) if !stopped && !lingers => d,
        _ => Instant::now(),
    };
    // What is still in flight now is counted before it is cancelled, not forgotten.
    shared.count_unanswered(end);
    // Dropping the set cancels whatever is still in flight and closes every connection.
    drop(local);
    let mut windows = shared.recordings.replace(Vec::new());
    if let Some(last) = windows.last_mut() {
        last.unsent = shared.pacer.unclaimed(end);
    }
    let mut marks = cpu_marks.borrow().clone();
    // A run that ended early (a count, or every connection gone) never reached some marks.
    marks.resize(windows.len(), cpu_at_end);
    marks.push(cpu_at_end);
    Ok(WorkerDone {
        windows,
        last_done: shared.last_done.get(),
        stopped_at: stopped.then_some(end),
        cpu: marks
            .windows(2)
            .map(|m| m[1].saturating_sub(m[0]))
            .collect(),
    })
}

/// What the connections of one worker thread share. Single-threaded: plain cells, no locks.
struct Shared {
    pacer: Pacer,
    timer: Rc<PreciseTimer>,
    addr: std::net::SocketAddr,
    /// When the run started: broadcast messages carry their times from it.
    start: Instant,
    ws: Option<WsSetup>,
    /// Broadcast: what each member of this thread has seen, and its publishing sequence, by
    /// connection.
    #[allow(clippy::type_complexity)]
    members: RefCell<Vec<(usize, SeenBySender, Rc<Cell<u64>>)>>,
    /// Broadcast: the connections opened before the start, by connection number, with how long
    /// each handshake took; each is taken by its connection's first connect.
    #[allow(clippy::type_complexity)]
    joined: RefCell<Vec<(usize, Result<(WsConn, Duration), ErrorKind>)>>,
    /// Itself, for tasks a connection spawns.
    me: std::rc::Weak<Shared>,
    requests: Arc<[Arc<[u8]>]>,
    heads: Arc<[bool]>,
    cycle: Arc<[u16]>,
    next_in_cycle: Cell<usize>,
    connect_timeout: Duration,
    request_timeout: Duration,
    /// One per part of the measured window.
    recordings: RefCell<Vec<Recording>>,
    scratch: RefCell<Box<[u8]>>,
    /// Connections open now.
    open: Rc<Cell<u64>>,
    /// Connection tasks alive now.
    tasks: Cell<usize>,
    all_done: Notify,
    last_done: Cell<Instant>,
    live: Arc<WorkerLive>,
    /// One slot per connection task: the request it has written and awaits, if any. Written on
    /// every send, read only when the run ends.
    pending: RefCell<Vec<Rc<Cell<Option<Pending>>>>>,
    /// Closed loop with `connect_first`: connections opened before this send nothing until it.
    first_send: Option<Instant>,
}

impl Shared {
    /// The recording of part `window` of the measured window.
    fn rec(&self, window: usize) -> RefMut<'_, Recording> {
        RefMut::map(self.recordings.borrow_mut(), |r| &mut r[window])
    }

    /// A new connection task's slot for the request it awaits.
    fn pending_slot(&self) -> Rc<Cell<Option<Pending>>> {
        let slot = Rc::new(Cell::new(None));
        self.pending.borrow_mut().push(slot.clone());
        slot
    }

    /// Records every request written and still awaiting its outcome at `end`, in the part of
    /// the measured window it counts in.
    fn count_unanswered(&self, end: Instant) {
        for slot in self.pending.borrow().iter() {
            let Some(p) = slot.get() else { continue };
            if let Some(window) = self.pacer.window(&p.ticket, end) {
                let bound = p
                    .ticket
                    .intended
                    .map(|at| end.saturating_duration_since(at));
                self.rec(window)
                    .unanswered(p.tag, end.saturating_duration_since(p.sent), bound);
            }
        }
    }

    fn next_request(&self) -> usize {
        let i = self.next_in_cycle.get();
        self.next_in_cycle
            .set(if i + 1 == self.cycle.len() { 0 } else { i + 1 });
        usize::from(self.cycle[i])
    }
}

/// A request written and not yet answered.
#[derive(Debug, Clone, Copy)]
struct Pending {
    ticket: crate::pacer::Ticket,
    sent: Instant,
    tag: usize,
}

/// What connection number `g` of the run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// HTTP requests, or WebSocket echo messages, paced by the load shape.
    Exchange,
    /// WebSocket idle: each ticket opens a connection, which is then held.
    Opener,
    /// WebSocket broadcast: a member of `room` that receives everything, and publishes if it is
    /// one of the room's senders (its number over the run).
    Member {
        room: usize,
        publisher: Option<usize>,
    },
}

impl Shared {
    fn role(&self, g: usize) -> Role {
        match &self.ws {
            Some(WsSetup {
                room: Some((size, senders)),
                ..
            }) => Role::Member {
                room: g / size,
                publisher: (g % size < *senders).then(|| g / size * senders + g % size),
            },
            Some(WsSetup {
                hold_after: Some(_),
                ..
            }) => Role::Opener,
            _ => Role::Exchange,
        }
    }

    fn is_broadcast(&self) -> bool {
        self.ws.as_ref().is_some_and(|w| w.room.is_some())
    }

    /// Broadcast: member `g`'s record of what it has seen, and its next sequence number as a
    /// publisher, kept across its reconnects.
    fn member(&self, g: usize) -> (SeenBySender, Rc<Cell<u64>>) {
        let mut all = self.members.borrow_mut();
        if let Some((_, seen, seq)) = all.iter().find(|(i, _, _)| *i == g) {
            return (seen.clone(), seq.clone());
        }
        let (seen, seq) = (SeenBySender::default(), Rc::new(Cell::new(0)));
        all.push((g, seen.clone(), seq.clone()));
        (seen, seq)
    }
}

/// Starts a connection's load loop, at once or at `at`.
fn spawn_connection(shared: &Rc<Shared>, g: usize, at: Option<Instant>) {
    shared.tasks.set(shared.tasks.get() + 1);
    let shared = shared.clone();
    tokio::task::spawn_local(async move {
        if let Some(at) = at {
            tokio::time::sleep_until(at.into()).await;
        }
        drive(&shared, g).await;
        shared.tasks.set(shared.tasks.get() - 1);
        if shared.tasks.get() == 0 {
            shared.all_done.notify_one();
        }
    });
}

/// Starts a broadcast member that only receives: it opens its connection and listens.
fn spawn_member(shared: &Rc<Shared>, g: usize, at: Option<Instant>) {
    let shared = shared.clone();
    tokio::task::spawn_local(async move {
        if let Some(at) = at {
            tokio::time::sleep_until(at.into()).await;
        }
        // A member that cannot join is counted once; its messages count as lost. One that
        // joined stays counted as open until the run ends, while its task listens.
        match connect(&shared, g).await {
            Ok(_open) => std::future::pending::<()>().await,
            Err(kind) => {
                let now = Instant::now();
                shared.finish(Some(shared.pacer.window_at(now)), 0, Err(kind));
            }
        }
    });
}

/// Open loop: whenever the next slot falls due and no connection has claimed it, every open
/// connection is busy; open another, up to `cap`.
async fn supervise(shared: Rc<Shared>, cap: usize) {
    let mut next = usize::MAX / 2;
    while let Some((index, due)) = shared.pacer.next_slot() {
        shared.timer.sleep_until(due + SUPERVISOR_GRACE).await;
        if shared.pacer.next_slot().map(|(i, _)| i) != Some(index) {
            continue;
        }
        if shared.tasks.get() < cap {
            // Extra connections have no room: they are echo, HTTP or idle openers.
            next += 1;
            spawn_connection(&shared, next, None);
            // Let the new connection claim the slot before looking again.
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// The load loop of one connection, `g` of the run.
async fn drive(shared: &Shared, g: usize) {
    let pending = shared.pending_slot();
    let mut conn: Option<Conn> = None;
    let mut backoff = DESCRIPTOR_BACKOFF;
    let role = shared.role(g);
    if let Some(at) = shared.first_send.filter(|&at| Instant::now() < at) {
        // A failed connect is tried again, and counted, by the first request.
        conn = connect(shared, g).await.ok();
        tokio::time::sleep_until(at.into()).await;
    }
    // The last time read. Between reading it and sending, a closed loop with an open connection
    // only does bookkeeping (no await), so it is the send time too; that saves a clock read per
    // request.
    let mut now = Instant::now();
    while let Some(ticket) = shared.pacer.claim(now) {
        if let Some(at) = ticket.intended {
            shared.timer.sleep_until(at).await;
            now = Instant::now();
        }
        let tag = shared.next_request();
        if role == Role::Opener {
            // The handshake is what is measured; the connection it opens is then held.
            shared.record_send(&ticket, now);
            let outcome = connect(shared, g).await;
            let done = Instant::now();
            let measured = shared.pacer.window(&ticket, done);
            match outcome {
                Ok(c) => {
                    if let Some(window) = measured {
                        let from_intended = done - ticket.intended.unwrap_or(now);
                        shared
                            .rec(window)
                            .message(tag, from_intended, done - now, 0);
                        shared.last_done.set(done);
                    }
                    shared.live.done.fetch_add(1, Ordering::Relaxed);
                    tokio::task::spawn_local(hold(c, shared.self_rc()));
                }
                Err(kind) => shared.finish(measured, tag, Err(kind)),
            }
            now = done;
            continue;
        }
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match connect(shared, g).await {
                Ok(c) => {
                    backoff = DESCRIPTOR_BACKOFF;
                    now = Instant::now();
                    conn.insert(c)
                }
                Err(kind) => {
                    now = Instant::now();
                    shared.finish(shared.pacer.window(&ticket, now), tag, Err(kind));
                    if kind == ErrorKind::Descriptors {
                        // Retrying at once cannot help until some socket closes.
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(DESCRIPTOR_BACKOFF_MAX);
                        now = Instant::now();
                    }
                    continue;
                }
            },
        };
        let sent = now;
        shared.record_send(&ticket, sent);
        pending.set(Some(Pending { ticket, sent, tag }));
        let outcome = match tokio::time::timeout(
            shared.request_timeout,
            c.exchange(shared, tag, &ticket, sent),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(ErrorKind::Timeout),
        };
        let done = Instant::now();
        pending.set(None);
        now = done;
        let measured = shared.pacer.window(&ticket, done);
        match outcome {
            Ok(response) => {
                // A broadcast publish is answered by its deliveries, which the members record.
                if let (Some(window), false) = (measured, matches!(role, Role::Member { .. })) {
                    let mut rec = shared.rec(window);
                    let from_intended = done - ticket.intended.unwrap_or(sent);
                    match response.status {
                        Some(status) => {
                            rec.response(tag, status, from_intended, done - sent);
                            rec.tags[tag].bytes += response.bytes;
                        }
                        None => rec.message(tag, from_intended, done - sent, response.bytes),
                    }
                    shared.last_done.set(done);
                }
                shared.live.done.fetch_add(1, Ordering::Relaxed);
                if !response.keep_alive {
                    conn = None;
                }
            }
            Err(kind) => {
                shared.finish(measured, tag, Err(kind));
                if measured.is_some() {
                    shared.last_done.set(done);
                }
                conn = None;
            }
        }
    }
}

/// WebSocket idle: keeps an opened connection, answering pings, until the run ends; a
/// connection lost before then is counted by kind.
async fn hold(mut c: Conn, shared: Rc<Shared>) {
    let Link::Held(idle) = &mut c.link else {
        return;
    };
    // A message in an idle hold is not expected, and not an error; only a loss is.
    let kind = idle.hold().await;
    *shared.rec(0).hold_errors.entry(kind).or_default() += 1;
    shared.live.errors.fetch_add(1, Ordering::Relaxed);
}

/// WebSocket broadcast: receives every message of member `g`'s room and records each delivery
/// of a measured message against its intended send time.
async fn listen(shared: &Shared, g: usize, mut reader: ws::Reader, own: Option<Rc<OwnArrival>>) {
    let Some(WsSetup {
        room: Some((_, senders)),
        run_id,
        ..
    }) = shared.ws.clone()
    else {
        return;
    };
    let Role::Member { room, .. } = shared.role(g) else {
        return;
    };
    let (seen, _) = shared.member(g);
    loop {
        let got = reader.next(|m| (Stamp::read(m), m.len() as u64)).await;
        let done = Instant::now();
        let (stamp, bytes) = match got {
            Ok((Some(stamp), bytes)) if stamp.run == run_id => (stamp, bytes),
            // Another process's message, or one without a stamp: not this run's to judge.
            Ok(_) => continue,
            Err(kind) => {
                shared.finish(Some(shared.pacer.window_at(done)), 0, Err(kind));
                return;
            }
        };
        let sender = stamp.sender as usize;
        let first_of_room = room * senders;
        if !(first_of_room..first_of_room + senders).contains(&sender) {
            continue;
        }
        if let Some(own) = own.as_deref().filter(|o| o.sender == sender) {
            own.arrived.set(own.arrived.get().max(stamp.seq + 1));
            own.notify.notify_one();
        }
        let intended = shared.start + Duration::from_nanos(stamp.intended_ns);
        let sent = shared.start + Duration::from_nanos(stamp.sent_ns);
        let arrival = {
            let mut s = seen.borrow_mut();
            if s.len() < senders {
                s.resize(senders, Seen::default());
            }
            s[sender - first_of_room].arrive(stamp.seq)
        };
        shared.live.done.fetch_add(1, Ordering::Relaxed);
        let Some(window) = (stamp.window as usize).checked_sub(1) else {
            continue;
        };
        let mut rec = shared.rec(window.min(shared.pacer.window_starts().len() - 1));
        match arrival {
            Arrival::First { in_order } => {
                rec.message(
                    0,
                    done.saturating_duration_since(intended),
                    done.saturating_duration_since(sent),
                    bytes,
                );
                let counts = rec.sender(sender);
                counts.delivered += 1;
                counts.out_of_order += u64::from(!in_order);
            }
            Arrival::Duplicate => rec.sender(sender).duplicated += 1,
        }
        drop(rec);
        shared.last_done.set(done);
    }
}

/// A publisher's view of its own messages coming back: the next sequence number it waits for.
#[derive(Debug)]
struct OwnArrival {
    sender: usize,
    /// One past the highest of its sequence numbers seen come back.
    arrived: Cell<u64>,
    notify: Notify,
}

impl Shared {
    /// Counts a request that ended; `window` is the part of the measured window it counts in.
    fn finish(&self, window: Option<usize>, tag: usize, outcome: Result<(), ErrorKind>) {
        self.live.done.fetch_add(1, Ordering::Relaxed);
        if let Err(kind) = outcome {
            self.live.errors.fetch_add(1, Ordering::Relaxed);
            if let Some(w) = window {
                self.rec(w).error(tag, kind);
            }
        }
    }

    /// Counts a send in the measured window, and how late it left.
    fn record_send(&self, ticket: &crate::pacer::Ticket, sent: Instant) {
        if ticket.measured {
            let mut rec = self.rec(ticket.window);
            rec.sent += 1;
            if let Some(at) = ticket.intended {
                let lag = sent.saturating_duration_since(at);
                rec.send_lag.saturating_record(micros(lag));
                if lag > LATE_AFTER {
                    rec.late += 1;
                }
            }
        }
    }

    /// The shared state itself, for a task spawned from a connection's loop.
    fn self_rc(&self) -> Rc<Shared> {
        self.me
            .upgrade()
            .expect("the worker outlives its connections")
    }
}

/// Broadcast: opens every connection of this worker, at once, before the run starts.
async fn join_rooms(
    setup: &WorkerSetup,
    w: &WsSetup,
) -> Vec<(usize, Result<(WsConn, Duration), ErrorKind>)> {
    let Some((size, _)) = w.room else {
        return Vec::new();
    };
    let (addr, connect_timeout, timeout) =
        (setup.addr, setup.connect_timeout, setup.request_timeout);
    let opens = (w.first..w.first + setup.connections).map(|g| {
        let origin = w.origin.clone();
        let path = w.path.replace("{room}", &(g / size).to_string());
        async move {
            let began = Instant::now();
            let conn = ws::open(addr, &origin, &path, connect_timeout, timeout)
                .await
                .map(|c| (c, began.elapsed()))
                .map_err(|e| e.kind);
            (g, conn)
        }
    });
    let mut out = Vec::with_capacity(setup.connections);
    let tasks: Vec<_> = opens.map(tokio::task::spawn_local).collect();
    for t in tasks {
        if let Ok(r) = t.await {
            out.push(r);
        }
    }
    out
}

async fn connect(shared: &Shared, g: usize) -> Result<Conn, ErrorKind> {
    let began = Instant::now();
    let link = match &shared.ws {
        None => {
            let stream =
                match tokio::time::timeout(shared.connect_timeout, TcpStream::connect(shared.addr))
                    .await
                {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => return Err(ErrorKind::of_connect(&e)),
                    Err(_) => return Err(ErrorKind::ConnectTimeout),
                };
            // Requests are written whole; Nagle would only delay them.
            stream.set_nodelay(true).map_err(|e| ErrorKind::of_io(&e))?;
            Link::Http(Http { stream })
        }
        Some(w) => {
            let role = shared.role(g);
            let path = match role {
                Role::Member { room, .. } => w.path.replace("{room}", &room.to_string()),
                _ => w.path.clone(),
            };
            let early = {
                let mut joined = shared.joined.borrow_mut();
                joined
                    .iter()
                    .position(|(i, _)| *i == g)
                    .map(|at| joined.swap_remove(at).1)
            };
            let (conn, took) = match early {
                Some(result) => result?,
                None => {
                    let conn = ws::open(
                        shared.addr,
                        &w.origin,
                        &path,
                        shared.connect_timeout,
                        shared.request_timeout,
                    )
                    .await
                    .map_err(|e| e.kind)?;
                    (conn, began.elapsed())
                }
            };
            let done = Instant::now();
            shared
                .rec(shared.pacer.window_at(done))
                .handshake
                .saturating_record(micros(took));
            match role {
                Role::Member { publisher, .. } => {
                    let own = publisher.map(|sender| {
                        Rc::new(OwnArrival {
                            sender,
                            arrived: Cell::new(0),
                            notify: Notify::new(),
                        })
                    });
                    let WsConn { reader, writer, .. } = conn;
                    let listening = own.clone();
                    // The member listens for as long as the run lasts, on its own task.
                    let me = shared.self_rc();
                    tokio::task::spawn_local(async move {
                        listen(&me, g, reader, listening).await;
                    });
                    Link::Publish {
                        writer,
                        own,
                        message: Vec::with_capacity(w.message_size),
                        seq: shared.member(g).1,
                    }
                }
                Role::Opener => Link::Held(conn.into_idle()),
                Role::Exchange => Link::Ws {
                    ws: conn,
                    message: vec![b'x'; w.message_size],
                    seq: 0,
                },
            }
        }
    };
    let open = shared.open.get() + 1;
    shared.open.set(open);
    let mut rec = shared.rec(shared.pacer.window_at(Instant::now()));
    rec.connections_opened += 1;
    rec.peak_connections = rec.peak_connections.max(open);
    Ok(Conn {
        link,
        open: shared.open.clone(),
    })
}

/// Writes `seq` in decimal over the first (up to 20) bytes of `message`, zero-padded.
fn stamp_sequence(message: &mut [u8], mut seq: u64) {
    let n = message.len().min(20);
    for b in message[..n].iter_mut().rev() {
        *b = b'0' + (seq % 10) as u8;
        seq /= 10;
    }
}

struct Response {
    /// The HTTP status; `None` for a WebSocket message.
    status: Option<u16>,
    keep_alive: bool,
    bytes: u64,
}

/// An open connection; counts itself out of the open connections when dropped.
struct Conn {
    link: Link,
    open: Rc<Cell<u64>>,
}

/// What an open connection speaks.
enum Link {
    Http(Http),
    /// WebSocket echo.
    Ws {
        ws: WsConn,
        /// The next message: its first bytes are rewritten with a sequence number each time.
        message: Vec<u8>,
        seq: u64,
    },
    /// WebSocket idle: held open.
    Held(ws::Idle),
    /// WebSocket broadcast publisher: it writes here; its member task receives.
    Publish {
        writer: Rc<ws::Writer>,
        own: Option<Rc<OwnArrival>>,
        message: Vec<u8>,
        seq: Rc<Cell<u64>>,
    },
}

struct Http {
    stream: TcpStream,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.open.set(self.open.get() - 1);
    }
}

impl Conn {
    /// Sends one request (or message) and waits for what answers it.
    async fn exchange(
        &mut self,
        shared: &Shared,
        tag: usize,
        ticket: &crate::pacer::Ticket,
        sent: Instant,
    ) -> Result<Response, ErrorKind> {
        match &mut self.link {
            Link::Http(http) => {
                http.exchange(&shared.requests[tag], shared.heads[tag], &shared.scratch)
                    .await
            }
            // A held connection sends nothing; it is never asked to.
            Link::Held(_) => Err(ErrorKind::Io),
            Link::Ws { ws, message, seq } => {
                // The echo must be this message: a sequence number tells it from an earlier one.
                *seq += 1;
                stamp_sequence(message, *seq);
                ws.writer
                    .send(fastwebsockets::OpCode::Text, message)
                    .await?;
                let same = ws.reader.next(|m| m == &message[..]).await?;
                if !same {
                    return Err(ErrorKind::Mismatch);
                }
                Ok(Response {
                    status: None,
                    keep_alive: true,
                    bytes: message.len() as u64,
                })
            }
            Link::Publish {
                writer,
                own,
                message,
                seq,
            } => {
                let Some(w) = &shared.ws else {
                    return Err(ErrorKind::Io);
                };
                let Some(sender) = own.as_ref().map(|o| o.sender) else {
                    return Err(ErrorKind::Io);
                };
                let number = seq.get();
                seq.set(number + 1);
                let since =
                    |t: Instant| t.saturating_duration_since(shared.start).as_nanos() as u64;
                Stamp {
                    run: w.run_id,
                    sender: sender as u32,
                    seq: number,
                    intended_ns: since(ticket.intended.unwrap_or(sent)),
                    sent_ns: since(sent),
                    window: if ticket.measured {
                        ticket.window as u32 + 1
                    } else {
                        0
                    },
                }
                .write(w.message_size, message);
                writer.send(fastwebsockets::OpCode::Text, message).await?;
                if ticket.measured {
                    shared.rec(ticket.window).sender(sender).published += 1;
                }
                // A closed loop publishes its next message when this one has come back.
                if !shared.pacer.is_open() {
                    if let Some(own) = own {
                        while own.arrived.get() <= number {
                            own.notify.notified().await;
                        }
                    }
                }
                Ok(Response {
                    status: None,
                    keep_alive: true,
                    bytes: 0,
                })
            }
        }
    }
}

/// An HTTP/1.1 connection.
impl Http {
    /// Sends one request and reads until its response ends.
    async fn exchange(
        &mut self,
        request: &[u8],
        head: bool,
        scratch: &RefCell<Box<[u8]>>,
    ) -> Result<Response, ErrorKind> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| ErrorKind::of_io(&e))?;
        let mut parser = ResponseParser::new(head);
        let mut bytes = 0u64;
        let stream = &mut self.stream;
        poll_fn(|cx| loop {
            // The scratch buffer is borrowed only inside this poll, never across a wait, so the
            // thread's other connections can use it in between.
            let mut buf = scratch.borrow_mut();
            let mut read = ReadBuf::new(&mut buf[..]);
            match Pin::new(&mut *stream).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(ErrorKind::of_io(&e))),
                Poll::Ready(Ok(())) => {}
            }
            let n = read.filled().len();
            if n == 0 {
                return Poll::Ready(match parser.eof() {
                    Some(status) => Ok(Response {
                        status: Some(status),
                        keep_alive: false,
                        bytes,
                    }),
                    None => Err(ErrorKind::Closed),
                });
            }
            bytes += n as u64;
            match parser.feed(&buf[..n]) {
                Err(_) => return Poll::Ready(Err(ErrorKind::Protocol)),
                Ok(Progress::More) => continue,
                Ok(Progress::Done {
                    status,
                    keep_alive,
                    used,
                }) => {
                    // Bytes past the response's end belong to no request we sent: the stream
                    // can no longer be trusted, so it is not reused.
                    return Poll::Ready(Ok(Response {
                        status: Some(status),
                        keep_alive: keep_alive && used == n,
                        bytes: bytes - (n - used) as u64,
                    }));
                }
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_cycle_follows_weights_evenly() {
        let c = mix_cycle(&[9, 1]);
        assert_eq!(c.len(), 10);
        assert_eq!(c.iter().filter(|&&i| i == 1).count(), 1);
        let c = mix_cycle(&[2, 2, 4]);
        assert_eq!(c, vec![2, 0, 1, 2]);
        let c = mix_cycle(&[1]);
        assert_eq!(c, vec![0]);
        let c = mix_cycle(&[1_000_000, 1]);
        assert!(c.len() as u64 <= MAX_CYCLE + 1 && c.contains(&1));
    }

    #[test]
    fn echo_messages_carry_their_sequence_number() {
        let mut m = vec![b'x'; 24];
        stamp_sequence(&mut m, 1234);
        assert_eq!(&m, b"00000000000000001234xxxx");
        let mut short = vec![b'x'; 3];
        stamp_sequence(&mut short, 1234);
        assert_eq!(&short, b"234");
    }
}
