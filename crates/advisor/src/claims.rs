//! The guides' claims about Node.js and Python, each checked against one run: does the claim
//! hold on this machine, with the numbers behind the verdict.
//!
//! Popular guides settle "Node.js or Python" with sentences such as "Node.js is faster for
//! I/O". Each sentence here is turned into a comparison of figures measured in the same run,
//! so the verdict is about the user's machine and the versions they installed. The rules are
//! the same for every claim:
//!
//! - stacks are grouped by language: JavaScript and TypeScript stacks are Node, Python stacks
//!   are Python; other languages take no side;
//! - each side is represented by its best stack for what the claim is about (the fastest, the
//!   leanest, the least affected), since a team picks one stack, not the average of a
//!   language; the evidence names the stacks compared;
//! - two throughputs are compared by their ratio taken round by round (both stacks met the
//!   same machine in each round), with its 95% interval over the rounds; when the interval
//!   spans 1 the run does not establish a difference and the verdict is
//!   [`Verdict::WithinNoise`]. Figures not measured in the same rounds (memory, latency across
//!   two scenarios, results before paired rounds) are compared by their intervals, within
//!   noise when they overlap;
//! - every claim is also judged per stack: each stack of either language against the other
//!   language's best, so a team that has picked a framework reads the verdict for it;
//! - when the run lacks the scenario or a side, the verdict is [`Verdict::NotMeasured`] and the
//!   evidence says what is missing;
//! - a quick run's verdicts carry a note: one short trial cannot show its own noise.
//!
//! Figures come from [`stackwise_results::summary`], as in every other output.

use std::fmt::{self, Write};

use serde::Serialize;
use stackwise_results::catalogue;
use stackwise_results::fmt::{ms, rate as rps};
use stackwise_results::summary::{self, Cell, Spread};
use stackwise_results::{Language, RunResult, StackResult};

/// What the run says about a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The measurements agree with the claim.
    Holds,
    /// The measurements contradict it.
    DoesNotHold,
    /// The two sides' ranges overlap: the run does not establish a difference.
    WithinNoise,
    /// The claim's scenarios disagree: it holds in some and not in others.
    Depends,
    /// The run lacks the scenario or the stacks the claim needs.
    NotMeasured,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "holds",
            Verdict::DoesNotHold => "does not hold",
            Verdict::WithinNoise => "within noise",
            Verdict::Depends => "depends on the workload",
            Verdict::NotMeasured => "not measured yet",
        })
    }
}

/// One claim checked against a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimCheck {
    /// Stable kebab-case name, so reports and the advisor can refer to it.
    pub id: &'static str,
    /// The claim as the guides put it.
    pub claim: &'static str,
    pub verdict: Verdict,
    /// The numbers behind the verdict, naming the comparison made, in one or two sentences.
    pub evidence: String,
    /// The scenarios whose measurements it used.
    pub scenarios: Vec<String>,
    /// The same claim for each stack: every stack of either language against the other
    /// language's best, as the claim pits the two languages' best against each other.
    pub stacks: Vec<StackVerdict>,
    /// What each stack is judged against, for the heading of the per-stack lines.
    #[serde(skip)]
    pub stacks_basis: &'static str,
}

/// The per-stack lines' basis of the claims that pit the languages against each other.
const AGAINST_THE_BEST: &str = "each against the other language's best";
/// Their basis in the claims each stack meets or not on its own.
const ON_ITS_OWN: &str = "each on its own";

/// A claim judged for one stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackVerdict {
    pub stack: String,
    /// The scenario it was judged in, when the claim reads several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    pub verdict: Verdict,
    /// The comparison, short: `node-http 33.5× fastapi (30.1–36.0, 3 paired rounds)`.
    pub evidence: String,
}

/// The claims, in the order they are checked and shown.
const NODE_FASTER_IO: &str = "Node.js is faster for I/O and many concurrent connections";
const NODE_REAL_TIME: &str = "Node.js is the better choice for real-time apps (WebSockets)";
const PYTHON_BETTER_CPU: &str = "Python is better for CPU-intensive work";
const PYTHON_BETTER_DATA: &str = "Python is better for data processing";
const PYTHON_BETTER_ML: &str = "Python is better for ML";
const JS_NOT_FOR_ML: &str = "JavaScript is not the right tool for ML";
const PYTHON_MORE_MEMORY: &str = "Python uses more memory";
const GIL_LIMITS: &str = "The GIL limits parallelism";
const TENS_OF_THOUSANDS: &str = "Both handle tens of thousands of requests per second when tuned";
const NODE_BLOCKS: &str = "Node blocks on CPU work";

/// "Tens of thousands of requests per second" starts here.
const TENS_OF_THOUSANDS_RPS: f64 = 10_000.0;

/// The speed an absolute claim is judged at: a core that serves this many requests a second of
/// the calibration's static response (the bundled reference run's first calibration, 40,246
/// req/s on one core of a 2-core AMD EPYC VM). The same VM type has run 2.5–4× slower on other
/// days; scaled to this, a run's per-core figures say the same whatever the day.
const REFERENCE_CALIBRATION_RPS: f64 = 40_000.0;

/// Share of the server cores a stack must keep busy to count as using them all: CPU accounting
/// and the engine's ramp leave a little idle time even in a saturated trial.
const CORES_USED: f64 = 0.85;

const QUICK_NOTE: &str = "Quick run: one short trial per scenario, so its noise is unknown; \
                          not for decisions.";

/// Checks every claim against `r`.
pub fn check(r: &RunResult) -> Vec<ClaimCheck> {
    let run = Run::new(r);
    let mut checks = vec![
        run.node_faster_io(),
        run.node_real_time(),
        run.python_better_cpu(),
        run.python_better_data(),
        run.python_better_ml(),
        run.js_not_for_ml(),
        run.python_more_memory(),
        run.gil_limits(),
        run.tens_of_thousands(),
        run.node_blocks(),
    ];
    if r.quick {
        for c in checks
            .iter_mut()
            .filter(|c| c.verdict != Verdict::NotMeasured)
        {
            c.evidence.push(' ');
            c.evidence.push_str(QUICK_NOTE);
        }
    }
    checks
}

/// A run with its summary cells, and the lookups every claim needs.
struct Run<'a> {
    r: &'a RunResult,
    cells: Vec<Cell>,
    server_cores: usize,
}

impl<'a> Run<'a> {
    fn new(r: &'a RunResult) -> Run<'a> {
        Run {
            r,
            cells: summary::cells(r),
            server_cores: r.settings.server_cpus.len().max(1),
        }
    }

    fn stack(&self, id: &str) -> Option<&'a StackResult> {
        self.r.stacks.iter().find(|s| s.id == id)
    }

    fn side_of(&self, stack: &str) -> Option<Language> {
        self.stack(stack).and_then(StackResult::side)
    }

    fn workers(&self, stack: &str) -> u64 {
        self.stack(stack).map_or(0, |s| s.workers)
    }

    /// The request a stack was driven with in a scenario, such as `GET /upstream?ms=20`.
    fn target(&self, stack: &str, scenario: &str) -> Option<&'a str> {
        self.stack(stack)?
            .scenarios
            .iter()
            .find(|s| s.scenario == scenario)
            .map(|s| s.target.as_str())
    }

    /// Cells of `side` in `scenario` that have valid trials.
    fn measured(&self, side: Language, scenario: &str) -> impl Iterator<Item = &Cell> + '_ {
        let scenario = scenario.to_string();
        self.cells.iter().filter(move |c| {
            c.scenario == scenario
                && c.error.is_none()
                && c.per_core.is_some()
                && self.side_of(&c.stack) == Some(side)
        })
    }

    /// The stack of `side` with the highest median throughput per core in `scenario`.
    fn fastest(&self, side: Language, scenario: &str) -> Option<&Cell> {
        self.measured(side, scenario)
            .max_by(|a, b| median(a.per_core).total_cmp(&median(b.per_core)))
    }

    /// `a`'s throughput per core over `b`'s in `sc`, with its interval: taken round by round
    /// where the run paired them ([`summary::paired_ratio`]).
    fn ratio(&self, a: &Cell, b: &Cell, sc: &str) -> Option<Ratio> {
        let result = |c: &Cell| {
            self.stack(&c.stack)?
                .scenarios
                .iter()
                .find(|s| s.scenario == sc)
        };
        let (ra, rb) = (result(a)?, result(b)?);
        let of = summary::paired_ratio(ra, rb)?;
        let paired = [ra, rb]
            .iter()
            .all(|s| s.trials.iter().all(|t| t.round.is_some()));
        // Per core: a stack that ran on more cores is judged per core, as everywhere else.
        let cores = |c: &Cell| match (c.throughput, c.per_core) {
            (Some(t), Some(p)) if p.median > 0.0 => t.median / p.median,
            _ => 1.0,
        };
        Some(Ratio {
            a: a.stack.clone(),
            b: b.stack.clone(),
            of: of.scaled(cores(a) / cores(b)),
            paired,
        })
    }

    /// The claim for every stack measured in `sc`: each stack of `subject` against the other
    /// language's fastest, and each of the other language's stacks against `subject`'s
    /// fastest. It holds for a pair when `subject`'s stack is the faster beyond noise (the
    /// slower, when `faster` is false).
    fn per_stack(
        &self,
        sc: &str,
        subject: Language,
        faster: bool,
        named: bool,
    ) -> Vec<StackVerdict> {
        let mut out = Vec::new();
        for side in [subject, subject.other()] {
            let Some(rival) = self.fastest(side.other(), sc) else {
                continue;
            };
            for c in self.measured(side, sc) {
                let (mine, theirs) = if side == subject {
                    (c, rival)
                } else {
                    (rival, c)
                };
                let ratio = self.ratio(mine, theirs, sc);
                let verdict = above_one(ratio.as_ref().map(|r| r.of));
                out.push(StackVerdict {
                    stack: c.stack.clone(),
                    scenario: named.then(|| sc.to_string()),
                    verdict: if faster { verdict } else { flipped(verdict) },
                    evidence: ratio
                        .map_or_else(|| "no round measured both".to_string(), |r| r.describe()),
                });
            }
        }
        out
    }

    /// Why a comparison of both sides in `scenarios` cannot be made, if it cannot: a side with
    /// no stack in the run, a scenario the run did not measure, or no valid trial for a side.
    fn missing(&self, sides: &[Language], scenarios: &[&str]) -> Option<String> {
        for &side in sides {
            let has = self.r.stacks.iter().any(|s| s.side() == Some(side));
            if !has {
                return Some(format!("The run has no {} stack.", side.runtime()));
            }
        }
        let list = scenarios.join(" or ");
        if !scenarios
            .iter()
            .any(|sc| self.cells.iter().any(|c| c.scenario == *sc))
        {
            return Some(format!("The run did not measure {list}."));
        }
        for &side in sides {
            if scenarios
                .iter()
                .all(|sc| self.measured(side, sc).next().is_none())
            {
                return Some(format!(
                    "No {} stack has a valid measurement of {list}.",
                    side.runtime()
                ));
            }
        }
        None
    }

    /// "Node.js is faster for I/O and many concurrent connections", from `upstream`.
    fn node_faster_io(&self) -> ClaimCheck {
        self.node_faster_in("node-faster-io", NODE_FASTER_IO, "upstream", "req/s")
    }

    /// "Node.js is better for real-time apps", from the WebSocket scenarios the run has: echo
    /// (messages per core) and broadcast fan-out (deliveries per core), each judged as
    /// [`Self::node_faster_in`] does. They agree, or the claim depends on the workload; any
    /// within noise leaves the whole within noise unless the others disagree.
    fn node_real_time(&self) -> ClaimCheck {
        const SCENARIOS: [&str; 3] = ["ws-echo", "ws-broadcast", "ws-broadcast-1k"];
        let (id, text) = ("node-real-time", NODE_REAL_TIME);
        let run: Vec<&str> = SCENARIOS
            .into_iter()
            .filter(|sc| self.r.settings.scenarios.iter().any(|s| s == sc))
            .collect();
        if run.is_empty() {
            return not_measured(id, text, "The run did not measure ws-echo.".into());
        }
        let checks: Vec<ClaimCheck> = run
            .iter()
            .map(|&sc| {
                let unit = catalogue::scenario(sc).map_or("req/s", |c| c.kind.rate_unit());
                self.node_faster_in(id, text, sc, unit)
            })
            .filter(|c| c.verdict != Verdict::NotMeasured)
            .collect();
        let Some(first) = checks.first() else {
            return not_measured(
                id,
                text,
                format!("No valid measurement of {} on both sides.", run.join(", ")),
            );
        };
        if checks.len() == 1 {
            return first.clone();
        }
        let has = |v: Verdict| checks.iter().any(|c| c.verdict == v);
        let verdict = if has(Verdict::Holds) && has(Verdict::DoesNotHold) {
            Verdict::Depends
        } else if has(Verdict::WithinNoise) {
            Verdict::WithinNoise
        } else {
            first.verdict
        };
        together(id, text, verdict, &checks, "")
    }

    /// A claim that Node.js's fastest stack outdoes Python's in `sc`, per core, in `unit`.
    fn node_faster_in(
        &self,
        id: &'static str,
        text: &'static str,
        sc: &'static str,
        unit: &str,
    ) -> ClaimCheck {
        let claim = |verdict, evidence| check_of(id, text, verdict, evidence, &[sc]);
        let (node, py) = match self.fastest_pair(id, text, sc) {
            Ok(pair) => pair,
            Err(not) => return *not,
        };
        let ratio = self.ratio(node, py, sc);
        let verdict = above_one(ratio.as_ref().map(|r| r.of));
        let mut evidence = format!(
            "Fastest stack of each language by median {unit} per core in {}: {}; {}.",
            self.scenario_label(node, sc),
            per_core_pair(node, py, unit, ratio.as_ref()),
            latency_and_capacity(node, py, self.r.settings.p99_target_ms, unit),
        );
        if verdict == Verdict::WithinNoise {
            evidence.push(' ');
            evidence.push_str(&noise_note(node, py, unit, ratio.as_ref()));
        }
        let mut c = claim(verdict, evidence);
        c.stacks = self.per_stack(sc, Language::Javascript, true, false);
        c
    }

    /// The fastest stack of each language in `sc`, Node.js's first, or the claim `id` saying
    /// why the comparison cannot be made.
    fn fastest_pair(
        &self,
        id: &'static str,
        text: &'static str,
        sc: &str,
    ) -> Result<(&Cell, &Cell), Box<ClaimCheck>> {
        if let Some(why) = self.missing(&[Language::Javascript, Language::Python], &[sc]) {
            return Err(Box::new(not_measured(id, text, why)));
        }
        match (
            self.fastest(Language::Javascript, sc),
            self.fastest(Language::Python, sc),
        ) {
            (Some(node), Some(py)) => Ok((node, py)),
            _ => Err(Box::new(not_measured(
                id,
                text,
                format!("No valid {sc} measurement."),
            ))),
        }
    }

    /// "Python is better for CPU-intensive work", from `cpu`.
    fn python_better_cpu(&self) -> ClaimCheck {
        let sc = "cpu";
        let (node, py) = match self.fastest_pair("python-better-cpu", PYTHON_BETTER_CPU, sc) {
            Ok(pair) => pair,
            Err(not) => return *not,
        };
        let ratio = self.ratio(py, node, sc);
        let verdict = above_one(ratio.as_ref().map(|r| r.of));
        let mut evidence = format!(
            "Plain code in each language (primes counted by trial division written in it, no native \
             library; the data and ml claims measure native libraries). \
             Fastest stack of each language by median req/s per core in {}: {}",
            self.scenario_label(py, sc),
            per_core_pair(py, node, "req/s", ratio.as_ref()),
        );
        if let (Some(a), Some(b)) = (py.cpu_ms_per_request, node.cpu_ms_per_request) {
            let _ = write!(
                evidence,
                "; server CPU per request {} vs {} ms",
                ms(a),
                ms(b)
            );
        }
        evidence.push('.');
        if verdict == Verdict::WithinNoise {
            evidence.push(' ');
            evidence.push_str(&noise_note(py, node, "req/s", ratio.as_ref()));
        }
        let mut c = check_of(
            "python-better-cpu",
            PYTHON_BETTER_CPU,
            verdict,
            evidence,
            &[sc],
        );
        c.stacks = self.per_stack(sc, Language::Python, true, false);
        c
    }

    /// "Python is better for data processing", from `data`: the fastest stack of each
    /// language, and every library's best, since the libraries (pandas, polars, nodejs-polars,
    /// plain code) may differ more than the languages.
    fn python_better_data(&self) -> ClaimCheck {
        self.python_better_in("python-better-data", PYTHON_BETTER_DATA, "data")
    }

    /// "Python is better for ML", from the ML scenarios the run measured: inference of the same
    /// models in the API process ([`Self::python_better_in_ml`]).
    fn python_better_ml(&self) -> ClaimCheck {
        let mut c = self.python_better_in_ml("python-better-ml", PYTHON_BETTER_ML);
        if c.verdict != Verdict::NotMeasured {
            c.evidence.push_str(INFERENCE_ONLY);
        }
        c
    }

    /// [`Self::python_better_in`] for each ML scenario the run measured, taken together: `ml`'s
    /// small model, whose requests are mostly per-call work (the body, the framework), and
    /// `ml-image`'s heavier one, whose requests are mostly the model's own compute in the same
    /// native library on both sides. Python is better where one says so and none says the
    /// opposite; a scenario within noise supports neither side.
    fn python_better_in_ml(&self, id: &'static str, text: &'static str) -> ClaimCheck {
        const SCENARIOS: [&str; 2] = ["ml", "ml-image"];
        let checks: Vec<ClaimCheck> = SCENARIOS
            .into_iter()
            .filter(|sc| self.r.settings.scenarios.iter().any(|s| s == sc))
            .map(|sc| self.python_better_in(id, text, sc))
            .filter(|c| c.verdict != Verdict::NotMeasured)
            .collect();
        match checks.as_slice() {
            [] => return self.python_better_in(id, text, "ml"),
            [one] => return one.clone(),
            _ => {}
        }
        let verdict = supported(checks.iter().map(|c| c.verdict));
        together(
            id,
            text,
            verdict,
            &checks,
            " The small model's requests are mostly per-call work (the body, the framework); the \
             heavier model's mostly the model's compute, in the same native library on both \
             sides.",
        )
    }

    /// "JavaScript is not the right tool for ML", from the ML scenarios: a Node.js stack that
    /// serves the same model, passing the same exact checks, at least as fast as Python's
    /// fastest within noise contradicts it for inference; what a run cannot measure is said.
    fn js_not_for_ml(&self) -> ClaimCheck {
        let (id, text) = ("js-not-for-ml", JS_NOT_FOR_ML);
        let python = self.python_better_in_ml(id, text);
        if python.verdict == Verdict::NotMeasured {
            return python;
        }
        let (verdict, reading) = match python.verdict {
            Verdict::Holds => (
                Verdict::Holds,
                "Python's fastest stack served the model faster.",
            ),
            _ => (
                Verdict::DoesNotHold,
                "A Node.js stack served the same model, with the same answers, at least as fast.",
            ),
        };
        let evidence = format!("{reading} {}{INFERENCE_ONLY}", python.evidence);
        let scenarios: Vec<&str> = python.scenarios.iter().map(String::as_str).collect();
        let mut c = check_of(id, text, verdict, evidence, &scenarios);
        // Per stack as for the language: it holds where Python's side is faster beyond noise.
        let named = scenarios.len() > 1;
        for sc in &scenarios {
            c.stacks
                .extend(self.per_stack(sc, Language::Javascript, false, named));
        }
        for s in &mut c.stacks {
            if s.verdict == Verdict::WithinNoise {
                s.verdict = Verdict::DoesNotHold;
            }
        }
        c
    }

    /// A claim that Python's fastest stack outdoes Node.js's in `sc` (`data` or `ml`), with
    /// each library's best stack beside it.
    fn python_better_in(
        &self,
        id: &'static str,
        text: &'static str,
        sc: &'static str,
    ) -> ClaimCheck {
        let (node, py) = match self.fastest_pair(id, text, sc) {
            Ok(pair) => pair,
            Err(not) => return *not,
        };
        let ratio = self.ratio(py, node, sc);
        let verdict = above_one(ratio.as_ref().map(|r| r.of));
        let mut evidence = format!(
            "Fastest stack of each language by median req/s per core in {}: {}; {}.",
            self.scenario_label(py, sc),
            per_core_pair(py, node, "req/s", ratio.as_ref()),
            latency_and_capacity(py, node, self.r.settings.p99_target_ms, "req/s"),
        );
        let libraries = self.libraries(sc);
        if libraries.len() > 2 {
            let list: Vec<String> = libraries
                .iter()
                .map(|(library, c)| format!("{library} ({}) {}", c.stack, rps(median(c.per_core))))
                .collect();
            let _ = write!(
                evidence,
                " By library, its fastest stack: {} req/s per core.",
                list.join(", ")
            );
            // A language's libraries on both sides of the other language's best: the library
            // decides more than the language.
            for (side, other) in [(Language::Python, node), (Language::Javascript, py)] {
                let own: Vec<&(String, &Cell)> = libraries
                    .iter()
                    .filter(|(_, c)| self.side_of(&c.stack) == Some(side))
                    .collect();
                let best = median(other.per_core);
                let above = own.iter().find(|(_, c)| median(c.per_core) > best);
                let below = own.iter().rev().find(|(_, c)| median(c.per_core) < best);
                if let (Some((a, _)), Some((b, _))) = (above, below) {
                    let _ = write!(
                        evidence,
                        " The library decides more than the language: in {}, {a} is faster \
                         and {b} slower than {}'s fastest ({}).",
                        side.runtime(),
                        side.other().runtime(),
                        other.stack
                    );
                }
            }
        }
        if verdict == Verdict::WithinNoise {
            evidence.push(' ');
            evidence.push_str(&noise_note(py, node, "req/s", ratio.as_ref()));
        }
        let mut c = check_of(id, text, verdict, evidence, &[sc]);
        c.stacks = self.per_stack(sc, Language::Python, true, false);
        c
    }

    /// The library each stack used in `sc` with the fastest stack of each, fastest first.
    fn libraries(&self, sc: &str) -> Vec<(String, &Cell)> {
        let mut best: Vec<(String, &Cell)> = Vec::new();
        for side in [Language::Python, Language::Javascript] {
            for c in self.measured(side, sc) {
                let Some(stack) = self.stack(&c.stack) else {
                    continue;
                };
                let library = match sc {
                    "data" => stack.data_library.as_deref(),
                    _ => stack.ml_library.as_deref(),
                };
                let Some(library) = library.map(library_name) else {
                    continue;
                };
                match best.iter_mut().find(|(l, _)| *l == library) {
                    Some(entry) if median(c.per_core) > median(entry.1.per_core) => entry.1 = c,
                    Some(_) => {}
                    None => best.push((library, c)),
                }
            }
        }
        best.sort_by(|a, b| median(b.1.per_core).total_cmp(&median(a.1.per_core)));
        best
    }

    /// Per stack, its peak memory under load: the scenario whose trials' peak PSS has the
    /// highest median, with the spread of those trials (trial-to-trial noise, not the
    /// difference between scenarios).
    fn memory_under_load(&self, side: Language) -> Vec<Memory<'a>> {
        let mut out = Vec::new();
        for stack in self.r.stacks.iter().filter(|s| s.side() == Some(side)) {
            let mut peak: Option<Memory> = None;
            let mut scenarios = Vec::new();
            for sc in stack.scenarios.iter().filter(|sc| sc.error.is_none()) {
                let peaks: Vec<f64> = sc
                    .trials
                    .iter()
                    .filter(|t| t.valid && t.server.pss_peak_bytes > 0)
                    .map(|t| t.server.pss_peak_bytes as f64)
                    .collect();
                let Some(spread) = Spread::of(&peaks) else {
                    continue;
                };
                scenarios.push(sc.scenario.as_str());
                if peak.as_ref().is_none_or(|p| spread.median > p.peak.median) {
                    peak = Some(Memory {
                        stack,
                        scenario: &sc.scenario,
                        peak: spread,
                        scenarios: Vec::new(),
                    });
                }
            }
            if let Some(mut p) = peak {
                p.scenarios = scenarios;
                out.push(p);
            }
        }
        out
    }

    /// "Python uses more memory": peak PSS under load, and idle PSS beside it.
    fn python_more_memory(&self) -> ClaimCheck {
        let (id, text) = ("python-more-memory", PYTHON_MORE_MEMORY);
        for side in [Language::Javascript, Language::Python] {
            if !self.r.stacks.iter().any(|s| s.side() == Some(side)) {
                return not_measured(
                    id,
                    text,
                    format!("The run has no {} stack.", side.runtime()),
                );
            }
        }
        let leanest = |side| {
            self.memory_under_load(side)
                .into_iter()
                .min_by(|a, b| a.peak.median.total_cmp(&b.peak.median))
        };
        let (Some(node), Some(py)) = (leanest(Language::Javascript), leanest(Language::Python))
        else {
            return not_measured(
                id,
                text,
                "No valid trial recorded the servers' memory.".to_string(),
            );
        };
        let verdict = higher(Some(py.peak), Some(node.peak));
        let (a, b) = (py.peak.median, node.peak.median);
        let mut evidence = format!(
            "Leanest stack of each language by peak PSS under load (median of the trials of its \
             most memory-hungry scenario): {} {} ({}, {}) vs {} {} ({}, {}), {}",
            py.stack.id,
            mib(a),
            py.scenario,
            workers_label(py.stack.workers),
            node.stack.id,
            mib(b),
            node.scenario,
            workers_label(node.stack.workers),
            ratio_label(&py.stack.id, a, &node.stack.id, b),
        );
        match (py.stack.idle_pss_bytes, node.stack.idle_pss_bytes) {
            (Some(pi), Some(ni)) => {
                let _ = write!(
                    evidence,
                    "; idle before load {} vs {}.",
                    mib(pi as f64),
                    mib(ni as f64)
                );
            }
            _ => evidence.push('.'),
        }
        if verdict == Verdict::WithinNoise {
            let _ = write!(
                evidence,
                " Their trials' ranges overlap ({}–{} and {}–{}).",
                mib(py.peak.min),
                mib(py.peak.max),
                mib(node.peak.min),
                mib(node.peak.max)
            );
        }
        let mut scenarios: Vec<&str> = py.scenarios.clone();
        scenarios.extend(node.scenarios.iter().filter(|s| !py.scenarios.contains(s)));
        let order = |s: &&str| {
            self.r
                .settings
                .scenarios
                .iter()
                .position(|p| p == s)
                .unwrap_or(usize::MAX)
        };
        scenarios.sort_by_key(order);
        let mut c = check_of(id, text, verdict, evidence, &scenarios);
        // Each Python stack against Node's leanest, each Node stack against Python's.
        let rows = |side: Language, rival: &Memory| -> Vec<StackVerdict> {
            self.memory_under_load(side)
                .iter()
                .map(|m| {
                    let (py, node) = match side {
                        Language::Python => (m, rival),
                        _ => (rival, m),
                    };
                    let ratio = Ratio {
                        a: py.stack.id.clone(),
                        b: node.stack.id.clone(),
                        of: unpaired(py.peak, node.peak),
                        paired: false,
                    };
                    StackVerdict {
                        stack: m.stack.id.clone(),
                        scenario: None,
                        verdict: above_one(Some(ratio.of)),
                        evidence: format!(
                            "{} {} vs {} {}: {}",
                            py.stack.id,
                            mib(py.peak.median),
                            node.stack.id,
                            mib(node.peak.median),
                            ratio.describe()
                        ),
                    }
                })
                .collect()
        };
        c.stacks = rows(Language::Python, &node);
        c.stacks.extend(rows(Language::Javascript, &py));
        c
    }

    /// /json p99 in `mixed` over /json p99 in `json`, for every stack of `side` measured in
    /// both, least affected first.
    fn slowdowns(&self, side: Language) -> Vec<Slowdown> {
        let mut out: Vec<Slowdown> = self
            .measured(side, "mixed")
            .filter_map(|mixed| {
                let json = summary::find(&self.cells, &mixed.stack, "json")?;
                if json.error.is_some() {
                    return None;
                }
                let (m, j) = (mixed.p99_ms?, json.p99_ms?);
                if j.min <= 0.0 {
                    return None;
                }
                Some(Slowdown {
                    stack: mixed.stack.clone(),
                    ratio: Spread {
                        median: m.median / j.median,
                        min: m.min / j.max,
                        max: m.max / j.min,
                        lo: m.lo / j.hi.max(f64::MIN_POSITIVE),
                        hi: m.hi / j.lo.max(f64::MIN_POSITIVE),
                        n: m.n.min(j.n),
                        cv: 0.0,
                    },
                })
            })
            .collect();
        out.sort_by(|a, b| a.ratio.median.total_cmp(&b.ratio.median));
        out
    }

    /// "The GIL limits parallelism". What one run can show: whether the Python stacks kept
    /// every server core busy in `cpu` (they use cores through worker processes, as Node does
    /// through cluster workers). With one server core that was not measured.
    fn gil_limits(&self) -> ClaimCheck {
        let (id, text) = ("gil-limits-parallelism", GIL_LIMITS);
        if !self
            .r
            .stacks
            .iter()
            .any(|s| s.side() == Some(Language::Python))
        {
            return not_measured(id, text, "The run has no Python stack.".to_string());
        }
        if let Some(check) = self.gil_scaling() {
            return check;
        }
        let cores = self.server_cores;
        if cores < 2 {
            let workers: Vec<String> = self
                .r
                .stacks
                .iter()
                .filter(|s| s.side() == Some(Language::Python))
                .map(|s| format!("{} {}", s.id, s.workers))
                .collect();
            let mut evidence = format!(
                "The servers had 1 core, so whether Python stacks scale across cores was not \
                 measured; they ran as worker processes ({}), which is how Python uses several \
                 cores despite the GIL.",
                workers.join(", ")
            );
            let mut scenarios = Vec::new();
            if let (Some(py), Some(node)) = (
                self.slowdowns(Language::Python).into_iter().next(),
                self.slowdowns(Language::Javascript).into_iter().next(),
            ) {
                let _ = write!(
                    evidence,
                    " In mixed, CPU-heavy requests raised /json p99 {} on {} and {} on {} (the \
                     least affected stack of each language).",
                    times(py.ratio.median),
                    py.stack,
                    times(node.ratio.median),
                    node.stack
                );
                scenarios = vec!["json", "mixed"];
            }
            return check_of(id, text, Verdict::NotMeasured, evidence, &scenarios);
        }
        let sc = "cpu";
        if let Some(why) = self.missing(&[Language::Python], &[sc]) {
            return not_measured(
                id,
                text,
                format!("{why} Scaling of CPU-bound work across cores comes from {sc}."),
            );
        }
        let busiest = |side| {
            self.measured(side, sc)
                .filter_map(|c| Some((c, self.cores_busy(&c.stack, sc)?)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
        };
        let Some((py, py_busy)) = busiest(Language::Python) else {
            return not_measured(
                id,
                text,
                format!("No valid {sc} trial recorded the servers' CPU time."),
            );
        };
        let node = busiest(Language::Javascript);
        let node_part = node
            .as_ref()
            .map(|(c, b)| format!(" ({} kept {b:.1})", c.stack))
            .unwrap_or_default();
        let full = CORES_USED * cores as f64;
        let py_part = format!(
            "{} kept {py_busy:.1} of {cores} server cores busy in {sc} with {}{node_part}",
            py.stack,
            workers_label(self.workers(&py.stack)),
        );
        let (verdict, evidence) = if py_busy >= full {
            (
                Verdict::DoesNotHold,
                format!(
                    "The busiest Python stack, {py_part}: separate processes side-step the GIL, \
                     which still serialises Python threads within one process."
                ),
            )
        } else if node.as_ref().is_some_and(|(_, b)| *b >= full) {
            (
                Verdict::Holds,
                format!(
                    "The busiest Python stack, {py_part}: Node used the cores Python left idle."
                ),
            )
        } else {
            (
                Verdict::NotMeasured,
                format!(
                    "The busiest Python stack, {py_part}; no stack kept the cores busy, so the run \
                     does not show what limits them."
                ),
            )
        };
        check_of(id, text, verdict, evidence, &[sc])
    }

    /// Each stack's scaling from `parallel-1` to `parallel` with its side; Python first, each
    /// side by scaling, highest first.
    fn scalings(&self) -> Vec<Scaling<'a>> {
        let mut out: Vec<Scaling> = summary::scalings(self.r, &self.cells)
            .into_iter()
            .filter_map(|of| {
                let stack = self.stack(&of.stack)?;
                Some(Scaling {
                    stack,
                    side: stack.side()?,
                    of,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (a.side != Language::Python)
                .cmp(&(b.side != Language::Python))
                .then(b.factor.total_cmp(&a.factor))
        });
        out
    }

    /// "The GIL limits parallelism" from `parallel-1` and `parallel`: one Python process (its
    /// threads taking turns under the GIL) gains nothing from more cores, worker processes gain
    /// about as many times as cores. None when the run has not measured both for a Python stack.
    fn gil_scaling(&self) -> Option<ClaimCheck> {
        let (id, text) = ("gil-limits-parallelism", GIL_LIMITS);
        let all = self.scalings();
        let python: Vec<&Scaling> = all.iter().filter(|s| s.side == Language::Python).collect();
        let first = python.first()?;
        let cores = first.cores;
        let list = |side: Language| {
            all.iter()
                .filter(|s| s.side == side)
                .map(Scaling::describe)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut evidence = format!(
            "Throughput of /cpu?n=100000 on {cores} server cores over 1 (the scaling factor, \
             with its interval): Python {}",
            list(Language::Python)
        );
        let node = list(Language::Javascript);
        if !node.is_empty() {
            let _ = write!(evidence, "; Node {node}");
        }
        evidence.push('.');
        // Where it would scale: nearly as many times as the cores; where it cannot: once.
        let scales = 1.0 + (cores as f64 - 1.0) * 0.5;
        let one_process: Vec<&&Scaling> = python.iter().filter(|s| s.processes == 1).collect();
        // What the machine lets worker processes gain, measured in the same run: the
        // configuration of several processes that scaled most surely (the highest lower end).
        // A machine's second CPU may give far less than a second core's worth (a shared
        // physical core, steal), so one process is judged against it rather than the CPUs.
        let reference = all
            .iter()
            .filter(|s| s.processes > 1)
            .max_by(|a, b| a.lo.total_cmp(&b.lo));
        let (bar, against) = match reference {
            Some(r) => (
                r.lo,
                format!(
                    "worker processes on the same machine ({} {})",
                    r.stack.id,
                    times(r.factor)
                ),
            ),
            None => (scales, times(scales)),
        };
        let verdict = if !one_process.is_empty() {
            if one_process.iter().all(|s| s.hi < bar) {
                let _ = write!(
                    evidence,
                    " One Python process gained clearly less from more cores than {against}: \
                     its threads take turns under the GIL."
                );
                Verdict::Holds
            } else if one_process.iter().all(|s| s.lo >= bar) {
                let _ = write!(
                    evidence,
                    " One Python process used the extra cores as well as {against}."
                );
                Verdict::DoesNotHold
            } else {
                let _ = write!(
                    evidence,
                    " One Python process's scaling overlaps that of {against}."
                );
                Verdict::WithinNoise
            }
        } else if python.iter().all(|s| s.lo >= scales) {
            evidence.push_str(
                " Python's worker processes side-step the GIL, which still serialises the \
                 threads of one process; no one-process configuration was measured (a variant \
                 such as flask-gthread runs one).",
            );
            Verdict::DoesNotHold
        } else {
            evidence.push_str(
                " No configuration of one Python process was measured, and the processes did \
                 not scale clearly, so the run does not show what limits them.",
            );
            Verdict::NotMeasured
        };
        let _ = write!(
            evidence,
            " A free-threaded CPython (3.14t, no GIL) is in neither Debian's nor PyPI's packages, \
             so it was not measured (facts cpython-314-free-threading); machines with more cores \
             show more."
        );
        let mut c = check_of(id, text, verdict, evidence, &["parallel-1", "parallel"]);
        c.stacks_basis = ON_ITS_OWN;
        // Each Python configuration: one process is judged against the machine's worker
        // processes, as above; worker processes against the cores they were given.
        for s in &python {
            let bar = if s.processes == 1 { bar } else { scales };
            c.stacks.push(StackVerdict {
                stack: s.stack.id.clone(),
                scenario: None,
                verdict: if s.hi < bar {
                    Verdict::Holds
                } else if s.lo >= bar {
                    Verdict::DoesNotHold
                } else {
                    Verdict::WithinNoise
                },
                evidence: s.describe(),
            });
        }
        Some(c)
    }

    /// Median over the valid trials of server CPU seconds per measured second: the cores the
    /// stack kept busy.
    fn cores_busy(&self, stack: &str, scenario: &str) -> Option<f64> {
        let sc = self
            .stack(stack)?
            .scenarios
            .iter()
            .find(|s| s.scenario == scenario)?;
        let busy: Vec<f64> = sc
            .trials
            .iter()
            .filter(|t| t.valid && t.load.elapsed_s > 0.0)
            .map(|t| t.server.cpu_seconds / t.load.elapsed_s)
            .collect();
        Spread::of(&busy).map(|s| s.median)
    }

    /// "Both handle tens of thousands of requests per second when tuned": the best per-core
    /// figure of each language in json or plaintext, times this machine's cores, at the speed of
    /// a reference core ([`REFERENCE_CALIBRATION_RPS`]): each figure over the run's calibration
    /// per core is a ratio measured on the same machine, so the verdict does not flip with the
    /// day's speed of the VM. The range takes the calibrations at the run's start and end.
    fn tens_of_thousands(&self) -> ClaimCheck {
        let (id, text) = ("tens-of-thousands-rps", TENS_OF_THOUSANDS);
        let scs = ["json", "plaintext"];
        if let Some(why) = self.missing(&[Language::Javascript, Language::Python], &scs) {
            return not_measured(id, text, why);
        }
        let best = |side| {
            scs.iter()
                .filter_map(|sc| self.fastest(side, sc))
                .max_by(|a, b| median(a.per_core).total_cmp(&median(b.per_core)))
        };
        let (Some(py), Some(node)) = (best(Language::Python), best(Language::Javascript)) else {
            return not_measured(
                id,
                text,
                "No valid json or plaintext measurement.".to_string(),
            );
        };
        let host_cores = (self.r.host.cores.max(1) as usize).max(self.server_cores);
        let n = host_cores as f64;
        // The calibration per server core at the start and the end: the machine's speed, by
        // which the run's figures are brought to the reference core's. A drift between the
        // two widens the range.
        let calibrations: Vec<f64> = self
            .r
            .calibration
            .iter()
            .map(|c| c.throughput_rps / self.server_cores as f64)
            .filter(|c| *c > 0.0)
            .collect();
        let speed = match calibrations.as_slice() {
            [] => None,
            cs => {
                let lo = cs.iter().copied().fold(f64::MAX, f64::min);
                let hi = cs.iter().copied().fold(f64::MIN, f64::max);
                let mid = cs.iter().sum::<f64>() / cs.len() as f64;
                Some((lo, mid, hi))
            }
        };
        // Per core to the whole machine at the reference core's speed: the slowest figure over
        // the fastest calibration, the fastest over the slowest.
        let (to_min, to_median, to_max) = match speed {
            Some((lo, mid, hi)) => (
                REFERENCE_CALIBRATION_RPS / hi,
                REFERENCE_CALIBRATION_RPS / mid,
                REFERENCE_CALIBRATION_RPS / lo,
            ),
            None => (1.0, 1.0, 1.0),
        };
        let scaled = |c: &Cell| {
            c.per_core.map(|s| Spread {
                median: s.median * n * to_median,
                min: s.min * n * to_min,
                max: s.max * n * to_max,
                ..s
            })
        };
        let (Some(ps), Some(ns)) = (scaled(py), scaled(node)) else {
            return not_measured(
                id,
                text,
                "No valid json or plaintext measurement.".to_string(),
            );
        };
        let reaches = |s: &Spread| {
            if s.max < TENS_OF_THOUSANDS_RPS {
                Verdict::DoesNotHold
            } else if s.min >= TENS_OF_THOUSANDS_RPS {
                Verdict::Holds
            } else {
                Verdict::WithinNoise
            }
        };
        let verdict = match (reaches(&ps), reaches(&ns)) {
            (Verdict::DoesNotHold, _) | (_, Verdict::DoesNotHold) => Verdict::DoesNotHold,
            (Verdict::Holds, Verdict::Holds) => Verdict::Holds,
            _ => Verdict::WithinNoise,
        };
        let assumption = if self.server_cores < host_cores {
            format!(
                " (linear scaling assumed: the servers ran on {} of them)",
                self.server_cores
            )
        } else {
            String::new()
        };
        let one = |c: &Cell, s: Spread| match speed {
            Some(_) => format!(
                "{} {} {} × {host_cores} = {} req/s ({}–{})",
                c.stack,
                c.scenario,
                rps(s.median / n),
                rps(s.median),
                rps(s.min),
                rps(s.max)
            ),
            None => format!(
                "{} {} {} × {host_cores} = {} req/s",
                c.stack,
                c.scenario,
                rps(median(c.per_core)),
                rps(s.median)
            ),
        };
        let at = match speed {
            Some((lo, _, hi)) => format!(
                ", at the speed of a reference core that serves {} req/s of the calibration's \
                 static response (this machine's served {} during the run, so its figures are \
                 scaled by {:.2}–{:.2})",
                rps(REFERENCE_CALIBRATION_RPS),
                if (hi - lo).abs() < 0.5 {
                    rps(lo)
                } else {
                    format!("{}–{}", rps(lo), rps(hi))
                },
                to_min,
                to_max
            ),
            None => " (not scaled to a reference core: the run has no calibration)".to_string(),
        };
        let mut evidence = format!(
            "Fastest stack of each language in json or plaintext, req/s per core × this \
             machine's {host_cores} cores{assumption}{at}: {}; {}.",
            one(py, ps),
            one(node, ns)
        );
        let short: Vec<String> = [(py, ps), (node, ns)]
            .iter()
            .filter(|(_, s)| s.max < TENS_OF_THOUSANDS_RPS)
            .map(|(c, s)| {
                let per_core = s.median / n;
                let needed = (TENS_OF_THOUSANDS_RPS / per_core).ceil();
                format!("{} would need {needed:.0} cores", c.stack)
            })
            .collect();
        if !short.is_empty() {
            let _ = write!(evidence, " For 10,000 req/s {}.", short.join(" and "));
        }
        let mut scenarios = vec![py.scenario.as_str()];
        if node.scenario != py.scenario {
            scenarios.push(&node.scenario);
        }
        scenarios.sort_by_key(|s| scs.iter().position(|x| x == s));
        let mut c = check_of(id, text, verdict, evidence, &scenarios);
        c.stacks_basis = ON_ITS_OWN;
        // Each stack on its own: its better of json and plaintext, scaled the same way.
        for side in [Language::Javascript, Language::Python] {
            for stack in self.r.stacks.iter().filter(|s| s.side() == Some(side)) {
                let best = scs
                    .iter()
                    .filter_map(|sc| self.measured(side, sc).find(|c| c.stack == stack.id))
                    .max_by(|a, b| median(a.per_core).total_cmp(&median(b.per_core)));
                let Some((cell, s)) = best.and_then(|c| Some((c, scaled(c)?))) else {
                    continue;
                };
                c.stacks.push(StackVerdict {
                    stack: stack.id.clone(),
                    scenario: None,
                    verdict: reaches(&s),
                    evidence: one(cell, s),
                });
            }
        }
        c
    }

    /// How long /json waited behind CPU work in `mixed`, for each stack of `side` whose
    /// capacity was probed: at the lowest probe's rate (about half the stack's closed-loop
    /// maximum, open loop, so the server is not saturated and nothing queues for want of
    /// capacity), /json's p99 against the /cpu request's own median latency there.
    fn blocking(&self, side: Language) -> Vec<Blocking> {
        let tag = |t: &stackwise_results::Trial, name: &str| {
            t.load
                .tags
                .iter()
                .find(|x| x.tag == name)
                .map(|x| x.summary.clone())
        };
        self.measured(side, "mixed")
            .filter_map(|c| {
                let sc = self
                    .stack(&c.stack)?
                    .scenarios
                    .iter()
                    .find(|s| s.scenario == "mixed")?;
                let probe = sc
                    .capacity
                    .iter()
                    .flat_map(|cap| &cap.probes)
                    .filter(|p| {
                        let s = &p.trial.load.summary;
                        !p.inconclusive && s.errors == 0 && s.non_2xx == 0
                    })
                    .min_by(|a, b| a.rate.total_cmp(&b.rate))?;
                let (json, cpu) = (tag(&probe.trial, "json")?, tag(&probe.trial, "cpu")?);
                let cpu_p50_ms = cpu.latency.corrected.p50_us as f64 / 1000.0;
                if cpu.ok == 0 || json.ok == 0 || cpu_p50_ms <= 0.0 {
                    return None;
                }
                let json_p99_ms = json.latency.corrected.p99_us as f64 / 1000.0;
                Some(Blocking {
                    stack: c.stack.clone(),
                    rate: probe.rate,
                    json_p99_ms,
                    cpu_p50_ms,
                    json_requests: json.ok,
                    cpu_requests: cpu.ok,
                    ratio: json_p99_ms / cpu_p50_ms,
                })
            })
            .collect()
    }

    /// "Node blocks on CPU work": whether a cheap request waits for a CPU-heavy one to finish.
    /// One event loop runs one request's code at a time, so a /json that arrives while a /cpu
    /// runs waits for the rest of it: /json's p99 reaches the /cpu request's own latency. Worker
    /// processes or threads are preempted by the operating system, so /json runs alongside and
    /// its p99 stays a small part of it. Read at the lowest capacity probe of `mixed`, where the
    /// server has idle time (in a saturated closed loop every request queues alike, and that
    /// says nothing of blocking).
    fn node_blocks(&self) -> ClaimCheck {
        let (id, text) = ("node-blocks-on-cpu", NODE_BLOCKS);
        let scs = ["mixed"];
        if let Some(why) = self.missing(&[Language::Javascript], &scs) {
            return not_measured(id, text, why);
        }
        let node = self.blocking(Language::Javascript);
        let python = self.blocking(Language::Python);
        if node.is_empty() {
            return not_measured(
                id,
                text,
                "No Node.js stack's capacity was probed in mixed: blocking shows only below \
                 saturation, in the open-loop probes of a default run."
                    .to_string(),
            );
        }
        let mix = self
            .target(&node[0].stack, "mixed")
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        let list = |all: &[Blocking]| {
            all.iter()
                .map(Blocking::describe)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let verdicts: Vec<Verdict> = node.iter().map(Blocking::verdict).collect();
        let all = |v: Verdict| verdicts.iter().all(|x| *x == v);
        let verdict = if all(Verdict::Holds) {
            Verdict::Holds
        } else if all(Verdict::DoesNotHold) {
            Verdict::DoesNotHold
        } else if verdicts.contains(&Verdict::Holds) && verdicts.contains(&Verdict::DoesNotHold) {
            Verdict::Depends
        } else {
            Verdict::WithinNoise
        };
        let mut evidence = format!(
            "In mixed{mix}, open loop at about half of each stack's maximum rate (its lowest \
             capacity probe), /json p99 against the /cpu request's median latency: Node.js {}",
            list(&node)
        );
        if !python.is_empty() {
            let _ = write!(evidence, "; Python {}", list(&python));
        }
        let _ = write!(
            evidence,
            ". A /json that waits {:.0}% or more of a /cpu request's latency waited behind it (one \
             event loop runs one request's code at a time); under {:.0}% it ran alongside \
             (worker processes or threads, preempted by the operating system).",
            BLOCKED * 100.0,
            ALONGSIDE * 100.0
        );
        let free: Vec<&str> = python
            .iter()
            .filter(|b| b.verdict() == Verdict::DoesNotHold)
            .map(|b| b.stack.as_str())
            .collect();
        let blocked: Vec<&str> = python
            .iter()
            .filter(|b| b.verdict() == Verdict::Holds)
            .map(|b| b.stack.as_str())
            .collect();
        if !blocked.is_empty() {
            let _ = write!(
                evidence,
                " It is not Node's alone: {} blocked too.",
                blocked.join(", ")
            );
        }
        if !free.is_empty() {
            let _ = write!(evidence, " {} did not.", free.join(", "));
        }
        let mut c = check_of(id, text, verdict, evidence, &scs);
        c.stacks_basis = "each on its own: whether CPU work held up its other requests";
        c.stacks = node
            .iter()
            .chain(&python)
            .map(|b| StackVerdict {
                stack: b.stack.clone(),
                scenario: None,
                verdict: b.verdict(),
                evidence: format!(
                    "/json p99 {} ms ({} requests) against /cpu {} ms ({} requests) at {} \
                     req/s: {}",
                    ms(b.json_p99_ms),
                    rps(b.json_requests as f64),
                    ms(b.cpu_p50_ms),
                    rps(b.cpu_requests as f64),
                    rps(b.rate),
                    factor(b.ratio)
                ),
            })
            .collect();
        c
    }

    /// `upstream (GET /upstream?ms=20, 256 connections)`.
    fn scenario_label(&self, c: &Cell, scenario: &str) -> String {
        match self.target(&c.stack, scenario) {
            Some(t) => format!("{scenario} ({t}, {} connections)", c.connections),
            None => format!("{scenario} ({} connections)", c.connections),
        }
    }
}

/// What the ML claims cannot measure here, said with them.
const INFERENCE_ONLY: &str = " Inference of the repository's models (a small classifier; a \
                              heavier network with synthetic weights when ml-image ran) on the \
                              CPU only: training, GPUs and the range of models and tools are not \
                              measured here.";

/// A library's name without what follows it: `pandas 2.3.3` of `pandas 2.3.3 (read_csv,
/// groupby)`, the part before a comma or parenthesis.
fn library_name(library: &str) -> String {
    library
        .split([',', '('])
        .next()
        .unwrap_or(library)
        .trim()
        .to_string()
}

/// A stack's throughput on many server cores over one, in the GIL scenarios, with its side.
struct Scaling<'a> {
    stack: &'a StackResult,
    side: Language,
    of: summary::Scaling,
}

impl std::ops::Deref for Scaling<'_> {
    type Target = summary::Scaling;

    fn deref(&self) -> &summary::Scaling {
        &self.of
    }
}

impl Scaling<'_> {
    /// `flask 1.02× (0.95–1.10×, 1 process)`.
    fn describe(&self) -> String {
        format!(
            "{} {} ({:.2}–{:.2}×, {})",
            self.stack.id,
            times(self.factor),
            self.lo,
            self.hi,
            summary::processes_text(self.processes, self.threads)
        )
    }
}

/// A stack's peak memory under load.
struct Memory<'a> {
    stack: &'a StackResult,
    /// The scenario where it peaked.
    scenario: &'a str,
    /// That scenario's trials' peak PSS, in bytes.
    peak: Spread,
    /// Scenarios with memory measured.
    scenarios: Vec<&'a str>,
}

/// /json's p99 at or above this share of the /cpu request's latency: it waited behind it.
const BLOCKED: f64 = 0.5;
/// Below this share: it ran alongside.
const ALONGSIDE: f64 = 0.2;

/// How long /json waited behind CPU work, at a rate the server could keep up with.
struct Blocking {
    stack: String,
    /// The probe's rate, requests per second.
    rate: f64,
    json_p99_ms: f64,
    cpu_p50_ms: f64,
    /// Responses behind each figure.
    json_requests: u64,
    cpu_requests: u64,
    /// `json_p99_ms / cpu_p50_ms`.
    ratio: f64,
}

impl Blocking {
    /// Whether CPU work held up /json: holds at [`BLOCKED`] and over, does not under
    /// [`ALONGSIDE`].
    fn verdict(&self) -> Verdict {
        if self.ratio >= BLOCKED {
            Verdict::Holds
        } else if self.ratio < ALONGSIDE {
            Verdict::DoesNotHold
        } else {
            Verdict::WithinNoise
        }
    }

    /// `express 4.2 of 4.0 ms (1.05)`.
    fn describe(&self) -> String {
        format!(
            "{} {} of {} ms ({})",
            self.stack,
            ms(self.json_p99_ms),
            ms(self.cpu_p50_ms),
            factor(self.ratio)
        )
    }
}

/// How much `mixed` raised a stack's /json p99 over `json` alone.
struct Slowdown {
    stack: String,
    /// The ratio of medians, between the ratio of the extremes either way.
    ratio: Spread,
}

fn check_of(
    id: &'static str,
    claim: &'static str,
    verdict: Verdict,
    evidence: String,
    scenarios: &[&str],
) -> ClaimCheck {
    ClaimCheck {
        id,
        claim,
        verdict,
        evidence,
        scenarios: scenarios.iter().map(ToString::to_string).collect(),
        stacks: Vec::new(),
        stacks_basis: AGAINST_THE_BEST,
    }
}

fn not_measured(id: &'static str, claim: &'static str, why: String) -> ClaimCheck {
    check_of(id, claim, Verdict::NotMeasured, why, &[])
}

/// One throughput over another in one scenario, with its interval.
struct Ratio {
    /// The stack over ...
    a: String,
    /// ... this one.
    b: String,
    of: Spread,
    /// Taken round by round; otherwise from the two stacks' intervals.
    paired: bool,
}

impl Ratio {
    /// The higher over the lower, with its interval and what it rests on:
    /// `node-http 33.5× fastapi (30.1–36.0, 3 paired rounds)`.
    fn describe(&self) -> String {
        let (hi_name, lo_name, of) = if self.of.median >= 1.0 {
            (&self.a, &self.b, self.of)
        } else {
            (&self.b, &self.a, reciprocal(self.of))
        };
        format!("{hi_name} {}", self.figures(of, lo_name))
    }

    /// `33.5× fastapi (30.1–36.0, 3 paired rounds)` without the first name: the median and its
    /// interval with as many decimals as the interval's lower end needs.
    fn figures(&self, of: Spread, lo_name: &str) -> String {
        let basis = if self.paired {
            let rounds = if of.n == 1 { "round" } else { "rounds" };
            format!("{} paired {rounds}", of.n)
        } else {
            "from both stacks' intervals".to_string()
        };
        let d = decimals(of.lo);
        format!(
            "{:.d$}× {lo_name} ({:.d$}–{:.d$}, {basis})",
            of.median, of.lo, of.hi
        )
    }
}

/// `a` over `b` for figures not measured in the same rounds: the medians' ratio, and an
/// interval from the lower end of one over the upper end of the other, so that it spans 1
/// exactly when their intervals overlap.
fn unpaired(a: Spread, b: Spread) -> Spread {
    let over = |x: f64, y: f64| if y > 0.0 { x / y } else { f64::INFINITY };
    Spread {
        median: over(a.median, b.median),
        min: over(a.min, b.max),
        max: over(a.max, b.min),
        lo: over(a.lo, b.hi),
        hi: over(a.hi, b.lo),
        n: a.n.min(b.n),
        cv: 0.0,
    }
}

/// The spread of 1 / x.
fn reciprocal(s: Spread) -> Spread {
    let inv = |x: f64| if x > 0.0 { 1.0 / x } else { f64::INFINITY };
    Spread {
        median: inv(s.median),
        min: inv(s.max),
        max: inv(s.min),
        lo: inv(s.hi),
        hi: inv(s.lo),
        ..s
    }
}

/// Decimals a ratio near `x` needs to be read: `34`, `3.1`, `1.04`, `0.91`, `0.042`.
fn decimals(x: f64) -> usize {
    if x >= 20.0 {
        0
    } else if x >= 2.0 {
        1
    } else if x >= 0.1 {
        2
    } else {
        3
    }
}

/// A ratio's figure with the decimals it needs.
fn factor(x: f64) -> String {
    format!("{x:.*}", decimals(x))
}

/// Whether the first side of a ratio is the higher: within noise when its interval spans 1.
fn above_one(r: Option<Spread>) -> Verdict {
    match r {
        Some(r) if r.lo > 1.0 => Verdict::Holds,
        Some(r) if r.hi < 1.0 => Verdict::DoesNotHold,
        Some(_) => Verdict::WithinNoise,
        None => Verdict::NotMeasured,
    }
}

/// One claim from its checks in several scenarios, with `verdict`: each scenario's verdict and
/// evidence in turn, then `after`; the per-stack lines named by their scenario.
fn together(
    id: &'static str,
    text: &'static str,
    verdict: Verdict,
    checks: &[ClaimCheck],
    after: &str,
) -> ClaimCheck {
    let mut evidence = checks
        .iter()
        .map(|c| format!("{} ({}): {}", c.scenarios.join(", "), c.verdict, c.evidence))
        .collect::<Vec<_>>()
        .join(" ");
    evidence.push_str(after);
    let scenarios: Vec<&str> = checks
        .iter()
        .flat_map(|c| c.scenarios.iter().map(String::as_str))
        .collect();
    let mut claim = check_of(id, text, verdict, evidence, &scenarios);
    claim.stacks = checks
        .iter()
        .flat_map(|c| {
            c.stacks.iter().cloned().map(|mut s| {
                s.scenario = c.scenarios.first().cloned();
                s
            })
        })
        .collect();
    claim
}

/// A claim read in several scenarios: it holds where one says so and none the opposite, does
/// not where one says not and none holds, depends where they disagree; within noise
/// everywhere, within noise.
fn supported(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
    let all: Vec<Verdict> = verdicts.collect();
    match (
        all.contains(&Verdict::Holds),
        all.contains(&Verdict::DoesNotHold),
    ) {
        (true, true) => Verdict::Depends,
        (true, false) => Verdict::Holds,
        (false, true) => Verdict::DoesNotHold,
        (false, false) => Verdict::WithinNoise,
    }
}

/// The verdict on the opposite claim.
fn flipped(v: Verdict) -> Verdict {
    match v {
        Verdict::Holds => Verdict::DoesNotHold,
        Verdict::DoesNotHold => Verdict::Holds,
        other => other,
    }
}

/// Whether `claimed` is higher than `other`, figures not measured in the same rounds: within
/// noise when their intervals overlap ([`unpaired`]).
fn higher(claimed: Option<Spread>, other: Option<Spread>) -> Verdict {
    match (claimed, other) {
        (Some(a), Some(b)) => above_one(Some(unpaired(a, b))),
        _ => Verdict::NotMeasured,
    }
}

fn median(s: Option<Spread>) -> f64 {
    s.map_or(0.0, |s| s.median)
}

/// `express 1,856 vs fastapi 277 req/s per core; express 6.7× fastapi (6.1–7.2, 3 paired
/// rounds)`, in `unit` (`req/s`).
fn per_core_pair(a: &Cell, b: &Cell, unit: &str, ratio: Option<&Ratio>) -> String {
    let (x, y) = (median(a.per_core), median(b.per_core));
    let label = match ratio {
        Some(r) => format!("; {}", r.describe()),
        None => format!(" ({})", ratio_label(&a.stack, x, &b.stack, y)),
    };
    format!(
        "{} {} vs {} {} {unit} per core{label}",
        a.stack,
        rps(x),
        b.stack,
        rps(y),
    )
}

/// Why two stacks' throughputs are within noise: their paired ratio's interval spans 1, or,
/// unpaired, their intervals overlap.
fn noise_note(a: &Cell, b: &Cell, unit: &str, ratio: Option<&Ratio>) -> String {
    match ratio {
        Some(r) if r.paired => format!(
            "The interval of their ratio over the rounds ({}–{}) spans 1.",
            factor(r.of.lo),
            factor(r.of.hi)
        ),
        _ => overlap_note(a, b, unit),
    }
}

/// `p99 1,104 vs 2,146 ms; capacity at p99 ≤ 100 ms 1,210 vs ≥ 174 req/s per core`, the parts
/// that were measured, a capacity no probe missed marked "≥".
fn latency_and_capacity(a: &Cell, b: &Cell, target_ms: f64, unit: &str) -> String {
    let mut parts = Vec::new();
    if let (Some(x), Some(y)) = (a.p99_ms, b.p99_ms) {
        parts.push(format!("p99 {} vs {} ms", ms(x.median), ms(y.median)));
    }
    if let (Some(x), Some(y)) = (a.capacity_per_core, b.capacity_per_core) {
        // A capacity no probe missed is at least what it says.
        let at_least = |c: &Cell| {
            if c.capacity_is_lower_bound() {
                "≥ "
            } else {
                ""
            }
        };
        parts.push(format!(
            "capacity at p99 ≤ {} ms {}{} vs {}{} {unit} per core",
            ms(target_ms),
            at_least(a),
            rps(x),
            at_least(b),
            rps(y)
        ));
    }
    if parts.is_empty() {
        "no latency figures".to_string()
    } else {
        parts.join("; ")
    }
}

fn overlap_note(a: &Cell, b: &Cell, unit: &str) -> String {
    match (a.per_core, b.per_core) {
        (Some(x), Some(y)) => format!(
            "Their trials' ranges overlap ({}–{} and {}–{} {unit} per core).",
            rps(x.min),
            rps(x.max),
            rps(y.min),
            rps(y.max)
        ),
        _ => String::new(),
    }
}

/// The higher of two figures over the lower, named: `express 6.7×`.
fn ratio_label(a_name: &str, a: f64, b_name: &str, b: f64) -> String {
    let (name, hi, lo) = if a >= b {
        (a_name, a, b)
    } else {
        (b_name, b, a)
    };
    if lo <= 0.0 {
        return format!("{name} higher");
    }
    format!("{name} {}", times(hi / lo))
}

fn times(r: f64) -> String {
    format!("{r:.1}×")
}

fn workers_label(n: u64) -> String {
    if n == 1 {
        "1 worker".to_string()
    } else {
        format!("{n} workers")
    }
}

/// A size measured as a (median) number of bytes.
fn mib(bytes: f64) -> String {
    stackwise_results::fmt::bytes(bytes.max(0.0).round() as u64)
}

/// Width of the evidence column in [`render_table`], so a line fits 100 columns.
const EVIDENCE_WIDTH: usize = 82;

/// The checks as plain text: verdict and claim on one line, the evidence wrapped beneath,
/// readable without colour or a Markdown viewer.
pub fn render_table(checks: &[ClaimCheck]) -> String {
    let width = checks
        .iter()
        .map(|c| c.verdict.to_string().chars().count())
        .chain(["verdict".len()])
        .max()
        .unwrap_or(0)
        + 2;
    let indent = " ".repeat(width);
    let mut out = format!("{:<width$}claim\n", "verdict");
    for c in checks {
        out.push('\n');
        let _ = writeln!(out, "{:<width$}{}", c.verdict.to_string(), c.claim);
        for line in wrap(&c.evidence, EVIDENCE_WIDTH) {
            let _ = writeln!(out, "{indent}{line}");
        }
        if !c.scenarios.is_empty() {
            let _ = writeln!(out, "{indent}scenarios: {}", c.scenarios.join(", "));
        }
        if !c.stacks.is_empty() {
            let _ = writeln!(out, "{indent}per stack ({}):", c.stacks_basis);
            let name = c
                .stacks
                .iter()
                .map(|s| s.stack.chars().count())
                .max()
                .unwrap_or(0)
                + 1;
            let verdict = checks
                .iter()
                .flat_map(|c| &c.stacks)
                .map(|s| s.verdict.to_string().chars().count())
                .max()
                .unwrap_or(0)
                + 1;
            let hang = " ".repeat(width + 2 + name + verdict);
            for s in &c.stacks {
                let text = match &s.scenario {
                    Some(sc) => format!("{sc}: {}", s.evidence),
                    None => s.evidence.clone(),
                };
                let lines = wrap(
                    &text,
                    (EVIDENCE_WIDTH + width).saturating_sub(hang.len()).max(30),
                );
                for (i, line) in lines.iter().enumerate() {
                    if i == 0 {
                        let _ = writeln!(
                            out,
                            "{indent}  {:<name$}{:<verdict$}{line}",
                            s.stack,
                            s.verdict.to_string()
                        );
                    } else {
                        let _ = writeln!(out, "{hang}{line}");
                    }
                }
            }
        }
    }
    out
}

/// The checks as a Markdown table: claim, verdict, evidence, scenarios.
pub fn render_markdown(checks: &[ClaimCheck]) -> String {
    let mut out = String::from("| Claim | Verdict | Evidence | Scenarios |\n|---|---|---|---|\n");
    for c in checks {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            md_cell(c.claim),
            c.verdict,
            md_cell(&c.evidence),
            md_cell(&c.scenarios.join(", "))
        );
    }
    if checks.iter().any(|c| !c.stacks.is_empty()) {
        out.push_str(
            "\nPer stack: every stack of either language against the other language's best, \
             or on its own where the claim is about each language alone.\n\n\
             | Claim | Stack | Verdict | Evidence |\n|---|---|---|---|\n",
        );
        for c in checks {
            for s in &c.stacks {
                let evidence = match &s.scenario {
                    Some(sc) => format!("{sc}: {}", s.evidence),
                    None => s.evidence.clone(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md_cell(c.claim),
                    s.stack,
                    s.verdict,
                    md_cell(&evidence)
                );
            }
        }
    }
    out
}

/// Text safe inside a Markdown table cell: pipes escaped, line breaks flattened.
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Words of `text` in lines of at most `width` characters (a longer word gets its own line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_read_as_words() {
        let words: Vec<String> = [
            Verdict::Holds,
            Verdict::DoesNotHold,
            Verdict::WithinNoise,
            Verdict::Depends,
            Verdict::NotMeasured,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            words,
            [
                "holds",
                "does not hold",
                "within noise",
                "depends on the workload",
                "not measured yet"
            ]
        );
    }

    #[test]
    fn languages_take_sides() {
        assert_eq!(Language::parse("JavaScript"), Some(Language::Javascript));
        assert_eq!(Language::parse("TypeScript"), Some(Language::Javascript));
        assert_eq!(Language::parse("Python"), Some(Language::Python));
        assert_eq!(Language::parse("Rust"), None);
        assert_eq!(Language::Javascript.runtime(), "Node");
        assert_eq!(Language::Python.runtime(), "Python");
    }

    #[test]
    fn higher_is_within_noise_when_ranges_overlap() {
        let s = |v: &[f64]| Spread::of(v);
        assert_eq!(higher(s(&[10.0, 12.0]), s(&[5.0, 6.0])), Verdict::Holds);
        assert_eq!(
            higher(s(&[5.0, 6.0]), s(&[10.0, 12.0])),
            Verdict::DoesNotHold
        );
        assert_eq!(
            higher(s(&[5.0, 11.0]), s(&[10.0, 12.0])),
            Verdict::WithinNoise
        );
        assert_eq!(higher(None, s(&[1.0])), Verdict::NotMeasured);
    }

    #[test]
    fn wrap_keeps_words_whole_and_lines_short() {
        let lines = wrap("aa bb cc dddddddddd e", 5);
        assert_eq!(lines, ["aa bb", "cc", "dddddddddd", "e"]);
        assert!(wrap("", 5).is_empty());
    }

    #[test]
    fn numbers_are_formatted_for_reading() {
        assert_eq!(rps(1855.6), "1,856");
        assert_eq!(ms(26.13), "26.1");
        assert_eq!(ms(2146.3), "2,146");
        assert_eq!(mib(130_719_744.0), "125 MiB");
        assert_eq!(ratio_label("a", 2.0, "b", 10.0), "b 5.0×");
        assert_eq!(ratio_label("a", 2.0, "b", 0.0), "a higher");
    }

    #[test]
    fn markdown_cells_escape_pipes() {
        assert_eq!(md_cell("a | b\nc"), "a \\| b c");
    }
}
