//! The project profile: what the product does, how much load it must carry, what the team knows
//! and needs. It is the advisor's second input beside the measurements, read from TOML
//! (`stackwise-profile.toml`, see `docs/profile.example.toml`) or from the questionnaire.
//!
//! Parsing is strict (unknown fields are errors, so a typo does not silently fall back to a
//! default) and validation names the field, so a user can fix a profile from the message
//! alone. The questionnaire is data here ([`QUESTIONS`]); asking belongs to the command line,
//! which keeps this crate free of terminal I/O.

use serde::{Deserialize, Serialize};

/// A validated project profile. Build one with [`Profile::parse`] or [`Profile::from_answers`];
/// workload shares are normalised to add up to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The product's name, used in the ADR's title.
    #[serde(default = "default_name")]
    pub name: String,
    pub workload: Workload,
    pub load: Load,
    pub team: Team,
    #[serde(default)]
    pub needs: Needs,
    #[serde(default)]
    pub hiring: Hiring,
    pub cost: Cost,
    #[serde(default)]
    pub hybrid: Hybrid,
}

fn default_name() -> String {
    "the backend".to_string()
}

/// What the backend spends its requests on, as shares (any scale; normalised to add up to 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Plain API / CRUD against a database.
    #[serde(default)]
    pub crud: f64,
    /// I/O-bound calls to other services (waiting on upstream APIs).
    #[serde(default)]
    pub io: f64,
    /// Real-time connections: WebSockets, live updates, chat.
    #[serde(default)]
    pub realtime: f64,
    /// CPU-heavy work inside requests.
    #[serde(default)]
    pub cpu: f64,
    /// Data processing: aggregations, reports, ETL.
    #[serde(default)]
    pub data: f64,
    /// ML inference.
    #[serde(default)]
    pub ml: f64,
}

/// The load the deployment must carry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Load {
    /// Requests per second at the busiest time.
    pub peak_rps: f64,
    /// The latency target: p99 in milliseconds.
    pub p99_ms: f64,
    /// Connections open at once at the peak (WebSockets and keep-alive).
    #[serde(default)]
    pub connections: u64,
}

/// Team skill per language, 0 (none) to 5 (expert).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// JavaScript / TypeScript.
    pub javascript: u8,
    pub python: u8,
}

/// What the product needs from the framework's ecosystem.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Needs {
    /// An admin back-office for staff to edit data.
    #[serde(default)]
    pub admin: bool,
    /// Server-rendered HTML pages.
    #[serde(default)]
    pub server_pages: bool,
    /// ML models in the product.
    #[serde(default)]
    pub ml_models: bool,
    /// The models must run inside the API process (PyTorch, scikit-learn): a knock-out for
    /// stacks that cannot load them.
    #[serde(default)]
    pub ml_in_process: bool,
    /// Compile-time type checking across the codebase.
    #[serde(default)]
    pub strict_typing: bool,
}

/// Which developers can be hired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hiring {
    /// The language whose developers are easier to hire.
    #[serde(default)]
    pub pool: Pool,
    /// Only stacks in `pool`'s language are considered (a knock-out) instead of preferred.
    #[serde(default)]
    pub only: bool,
}

/// A hiring pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pool {
    #[default]
    Either,
    Javascript,
    Python,
}

/// What compute costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    /// Price of one core for one hour.
    pub core_hour: f64,
    /// What the backend's compute may cost per month.
    pub monthly_budget: f64,
    /// Shown beside amounts.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Memory that comes with one core, in GiB. Connections held open take memory: when the
    /// peak's connections need more than a service's cores carry, it is given more cores.
    #[serde(default = "default_memory_per_core")]
    pub memory_per_core_gib: f64,
}

fn default_currency() -> String {
    "USD".to_string()
}

/// General-purpose cloud machines give 4 GiB per vCPU (AWS M7i, Google Cloud N2 standard,
/// Azure Dsv5); compute-optimised ones 2.
pub const DEFAULT_MEMORY_PER_CORE_GIB: f64 = 4.0;

fn default_memory_per_core() -> f64 {
    DEFAULT_MEMORY_PER_CORE_GIB
}

/// What running two services costs a team beyond their cores, for the options that put a Node
/// service beside a Python one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hybrid {
    /// Points (of 100) taken off a two-service option's total: two build and deploy pipelines,
    /// two dependency sets to patch, a network hop between the services. 0 for a team that
    /// already runs both; more for a small team.
    #[serde(default = "default_overhead")]
    pub overhead: f64,
}

/// The default [`Hybrid::overhead`]: a judgement, shown with every two-service option and
/// varied by the sensitivity analysis, never hidden.
pub const DEFAULT_HYBRID_OVERHEAD: f64 = 5.0;

fn default_overhead() -> f64 {
    DEFAULT_HYBRID_OVERHEAD
}

impl Default for Hybrid {
    fn default() -> Hybrid {
        Hybrid {
            overhead: DEFAULT_HYBRID_OVERHEAD,
        }
    }
}

/// A language the advisor knows team skill for: the one reading of a stack's `language`
/// string, shared with the claims and the report.
pub use stackwise_results::Language;

impl Pool {
    pub fn language(self) -> Option<Language> {
        match self {
            Pool::Either => None,
            Pool::Javascript => Some(Language::Javascript),
            Pool::Python => Some(Language::Python),
        }
    }
}

impl Team {
    pub fn skill(&self, language: Language) -> u8 {
        match language {
            Language::Javascript => self.javascript,
            Language::Python => self.python,
        }
    }
}

/// A profile that cannot be used, with the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    #[error("{source_name}: {message}")]
    Syntax {
        source_name: String,
        message: String,
    },
    #[error("{source_name}: {field} {problem}")]
    Field {
        source_name: String,
        field: String,
        problem: String,
    },
}

/// The largest skill level.
pub const MAX_SKILL: u8 = 5;

impl Profile {
    /// Parses and validates a profile; `source_name` (a file name) starts every error message.
    pub fn parse(text: &str, source_name: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            source_name: source_name.to_string(),
            message: one_line(&e, text),
        })?;
        profile.validated(source_name)
    }

    /// Checks every field and normalises the workload shares.
    pub fn validated(mut self, source_name: &str) -> Result<Profile, ProfileError> {
        let err = |field: &str, problem: String| ProfileError::Field {
            source_name: source_name.to_string(),
            field: field.to_string(),
            problem,
        };
        let w = &mut self.workload;
        let shares = [
            ("workload.crud", w.crud),
            ("workload.io", w.io),
            ("workload.realtime", w.realtime),
            ("workload.cpu", w.cpu),
            ("workload.data", w.data),
            ("workload.ml", w.ml),
        ];
        for (field, v) in shares {
            if !v.is_finite() || v < 0.0 {
                return Err(err(field, format!("must be a share of 0 or more, got {v}")));
            }
        }
        let total: f64 = shares.iter().map(|(_, v)| v).sum();
        if total <= 0.0 {
            return Err(ProfileError::Field {
                source_name: source_name.to_string(),
                field: "workload shares".to_string(),
                problem: "must add up to more than 0".to_string(),
            });
        }
        for v in [
            &mut w.crud,
            &mut w.io,
            &mut w.realtime,
            &mut w.cpu,
            &mut w.data,
            &mut w.ml,
        ] {
            *v /= total;
        }
        for (field, v) in [
            ("team.javascript", self.team.javascript),
            ("team.python", self.team.python),
        ] {
            if v > MAX_SKILL {
                return Err(err(
                    field,
                    format!("must be between 0 and {MAX_SKILL}, got {v}"),
                ));
            }
        }
        for (field, v) in [
            ("load.peak_rps", self.load.peak_rps),
            ("load.p99_ms", self.load.p99_ms),
            ("cost.core_hour", self.cost.core_hour),
            ("cost.monthly_budget", self.cost.monthly_budget),
            ("cost.memory_per_core_gib", self.cost.memory_per_core_gib),
            ("hybrid.overhead", self.hybrid.overhead),
        ] {
            if let Some(problem) = number_problem(field, v) {
                return Err(err(field, problem));
            }
        }
        if self.needs.ml_in_process && !self.needs.ml_models {
            return Err(err(
                "needs.ml_in_process",
                "is true but needs.ml_models is false: in-process models are models in the product"
                    .to_string(),
            ));
        }
        Ok(self)
    }

    /// The profile as TOML, as `--init` would write it without the comments.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

/// What is wrong with `v` for the number `field` beyond being 0 or more, if anything: one rule
/// for a profile file and for the questionnaire, which asks again at once rather than failing
/// once every question is answered.
fn number_problem(field: &str, v: f64) -> Option<String> {
    match field {
        "load.peak_rps"
        | "load.p99_ms"
        | "cost.core_hour"
        | "cost.monthly_budget"
        | "cost.memory_per_core_gib" => {
            (!v.is_finite() || v <= 0.0).then(|| format!("must be a number above 0, got {v}"))
        }
        "hybrid.overhead" => (!v.is_finite() || !(0.0..=100.0).contains(&v))
            .then(|| format!("must be between 0 and 100 points, got {v}")),
        _ => None,
    }
}

/// A TOML error on one line: the message, then the line it is on, so the field is named even
/// when the message alone does not (a wrong type names only the type).
fn one_line(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim().replace('\n', " ");
    // A table left out is reported at the first line of the file, which is not at fault.
    for table in REQUIRED_TABLES {
        if message == format!("missing field `{table}`") {
            return format!(
                "the [{table}] table is missing: a profile needs {} (the rest may be left \
                 out; `stackwise advise --init` writes every field)",
                REQUIRED_TABLES.map(|t| format!("[{t}]")).join(", ")
            );
        }
    }
    match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let line_no = text[..start].matches('\n').count() + 1;
            let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
            format!("{message} at line {line_no}: `{line}`")
        }
        None => message,
    }
}

/// The tables a profile must have: what the product does, its load, its team, and what compute
/// costs have no default a decision could rest on.
const REQUIRED_TABLES: [&str; 4] = ["workload", "load", "team", "cost"];

/// The commented template `stackwise advise --init` writes: every field with its default and
/// what it means.
pub const TEMPLATE: &str = include_str!("../../../docs/profile.example.toml");

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A number of 0 or more, written as people write it (see [`typed_number`]).
    Number(Unit),
    /// A whole number of 0 or more.
    Count,
    /// A skill level from 0 to [`MAX_SKILL`].
    Skill,
    /// yes or no.
    YesNo,
    /// One of the listed words.
    Choice(&'static [&'static str]),
    /// Any text.
    Text,
}

/// What a number counts, which says the forms it may be typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A share of the work, on any scale: `60`, `60%`, `0.6`.
    Share,
    /// A count or a rate: `2000`, `2,000`, `10k`, `1.5M`, `2000 req/s`.
    Quantity,
    /// Milliseconds: `100`, `100ms`, `0.1s`.
    Millis,
    /// A price: `0.04`, `$0.04`, `1,500`.
    Money,
}

/// Reads a number of 0 or more as people type it for `unit`; `None` when it is not one. Commas
/// group thousands (`2,000`; `1,5` is refused rather than guessed), `_` and spaces between digit
/// groups are allowed.
pub fn typed_number(text: &str, unit: Unit) -> Option<f64> {
    let mut t = text.trim().to_ascii_lowercase();
    let strip = |t: &mut String, suffix: &str| -> bool {
        match t.strip_suffix(suffix) {
            Some(rest) => {
                *t = rest.trim_end().to_string();
                true
            }
            None => false,
        }
    };
    let mut scale = 1.0;
    match unit {
        Unit::Share => {
            strip(&mut t, "%");
        }
        Unit::Quantity => {
            for suffix in ["req/s", "requests/s", "rps", "/s"] {
                if strip(&mut t, suffix) {
                    break;
                }
            }
            if strip(&mut t, "k") {
                scale = 1e3;
            } else if strip(&mut t, "m") {
                scale = 1e6;
            }
        }
        Unit::Millis => {
            if !strip(&mut t, "ms") && strip(&mut t, "s") {
                scale = 1e3;
            }
        }
        Unit::Money => {
            for symbol in ["$", "€", "£"] {
                if let Some(rest) = t.strip_prefix(symbol) {
                    t = rest.trim_start().to_string();
                    break;
                }
            }
        }
    }
    let digits = plain_digits(&t)?;
    digits
        .parse::<f64>()
        .ok()
        .map(|v| v * scale)
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// `t` without its thousands separators, when it uses them as such: `2,000.5` → `2000.5`.
fn plain_digits(t: &str) -> Option<String> {
    let t: String = t.chars().filter(|c| *c != '_' && *c != ' ').collect();
    if !t.contains(',') {
        return Some(t);
    }
    let (whole, fraction) = match t.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (t.as_str(), None),
    };
    let mut groups = whole.split(',');
    let first = groups.next()?;
    let grouped = (1..=3).contains(&first.len())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
    if !grouped {
        return None;
    }
    let mut out = whole.replace(',', "");
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

/// One question of the questionnaire: the profile field it fills, what to ask, the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    /// Dotted TOML path, such as `team.python`.
    pub field: &'static str,
    pub prompt: &'static str,
    /// The answer taken when none is given, as it would be typed.
    pub default: &'static str,
    pub kind: Kind,
}

/// The questionnaire, in the order asked. Every field of [`Profile`] has a question, so the
/// answers alone make a complete profile.
pub const QUESTIONS: &[Question] = &[
    q("name", "Product name", "the backend", Kind::Text),
    q(
        "workload.crud",
        "Share of plain API / CRUD work (any scale, e.g. percent)",
        "100",
        Kind::Number(Unit::Share),
    ),
    q(
        "workload.io",
        "Share of I/O-bound calls to other services",
        "0",
        Kind::Number(Unit::Share),
    ),
    q(
        "workload.realtime",
        "Share of real-time connections (WebSockets, live updates)",
        "0",
        Kind::Number(Unit::Share),
    ),
    q(
        "workload.cpu",
        "Share of CPU-heavy work in requests",
        "0",
        Kind::Number(Unit::Share),
    ),
    q(
        "workload.data",
        "Share of data processing",
        "0",
        Kind::Number(Unit::Share),
    ),
    q(
        "workload.ml",
        "Share of ML inference",
        "0",
        Kind::Number(Unit::Share),
    ),
    q(
        "load.peak_rps",
        "Peak requests per second",
        "1000",
        Kind::Number(Unit::Quantity),
    ),
    q(
        "load.p99_ms",
        "p99 latency target in milliseconds",
        "100",
        Kind::Number(Unit::Millis),
    ),
    q(
        "load.connections",
        "Connections open at once at the peak",
        "1000",
        Kind::Count,
    ),
    q(
        "team.javascript",
        "Team skill in JavaScript/TypeScript, 0-5",
        "3",
        Kind::Skill,
    ),
    q("team.python", "Team skill in Python, 0-5", "3", Kind::Skill),
    q(
        "needs.admin",
        "Need an admin back-office?",
        "no",
        Kind::YesNo,
    ),
    q(
        "needs.server_pages",
        "Need server-rendered pages?",
        "no",
        Kind::YesNo,
    ),
    q(
        "needs.ml_models",
        "ML models in the product?",
        "no",
        Kind::YesNo,
    ),
    q(
        "needs.ml_in_process",
        "Must the models run inside the API process (PyTorch, scikit-learn)?",
        "no",
        Kind::YesNo,
    ),
    q(
        "needs.strict_typing",
        "Need strict typing?",
        "no",
        Kind::YesNo,
    ),
    q(
        "hiring.pool",
        "Which developers can you hire most easily",
        "either",
        Kind::Choice(&["either", "javascript", "python"]),
    ),
    q(
        "hiring.only",
        "Consider only stacks in that language?",
        "no",
        Kind::YesNo,
    ),
    q(
        "cost.core_hour",
        "Price of one core-hour",
        "0.04",
        Kind::Number(Unit::Money),
    ),
    q(
        "cost.monthly_budget",
        "Monthly compute budget",
        "500",
        Kind::Number(Unit::Money),
    ),
    q("cost.currency", "Currency", "USD", Kind::Text),
    q(
        "cost.memory_per_core_gib",
        "Memory per core, in GiB (4 on general-purpose cloud machines, 2 on compute-optimised)",
        "4",
        Kind::Number(Unit::Quantity),
    ),
    q(
        "hybrid.overhead",
        "Points (of 100) a Node service beside a Python one should lose for running two stacks \
         (0 if you already run both)",
        "5",
        Kind::Number(Unit::Share),
    ),
];

const fn q(
    field: &'static str,
    prompt: &'static str,
    default: &'static str,
    kind: Kind,
) -> Question {
    Question {
        field,
        prompt,
        default,
        kind,
    }
}

impl Question {
    /// Checks one typed answer (empty means the default) and returns it as a TOML value, or
    /// a message saying what is expected.
    pub fn answer(&self, typed: &str) -> Result<toml::Value, String> {
        let typed = typed.trim();
        let text = if typed.is_empty() {
            self.default
        } else {
            typed
        };
        match self.kind {
            Kind::Number(unit) => {
                let v = typed_number(text, unit).ok_or_else(|| {
                    let forms = match unit {
                        Unit::Share => "such as 60 or 60%",
                        Unit::Quantity => "such as 2000, 2,000 or 10k",
                        Unit::Millis => "such as 100, 100ms or 0.1s",
                        Unit::Money => "such as 0.04 or $0.04",
                    };
                    format!(
                        "{} expects a number of 0 or more ({forms}), got '{text}'",
                        self.field
                    )
                })?;
                match number_problem(self.field, v) {
                    Some(problem) => Err(format!("{} {problem}", self.field)),
                    None => Ok(toml::Value::Float(v)),
                }
            }
            Kind::Count => typed_number(text, Unit::Quantity)
                .filter(|v| v.fract() == 0.0 && *v <= i64::MAX as f64)
                .map(|v| toml::Value::Integer(v as i64))
                .ok_or_else(|| {
                    format!(
                        "{} expects a whole number (such as 1000, 1,000 or 1k), got '{text}'",
                        self.field
                    )
                }),
            Kind::Skill => text
                .parse::<i64>()
                .ok()
                .filter(|v| (0..=i64::from(MAX_SKILL)).contains(v))
                .map(toml::Value::Integer)
                .ok_or_else(|| format!("{} expects 0 to {MAX_SKILL}, got '{text}'", self.field)),
            Kind::YesNo => match text.to_ascii_lowercase().as_str() {
                "y" | "yes" | "true" => Ok(toml::Value::Boolean(true)),
                "n" | "no" | "false" => Ok(toml::Value::Boolean(false)),
                _ => Err(format!("{} expects yes or no, got '{text}'", self.field)),
            },
            Kind::Choice(options) => {
                let lower = text.to_ascii_lowercase();
                if options.contains(&lower.as_str()) {
                    Ok(toml::Value::String(lower))
                } else {
                    Err(format!(
                        "{} expects one of {}, got '{text}'",
                        self.field,
                        options.join(", ")
                    ))
                }
            }
            Kind::Text => Ok(toml::Value::String(text.to_string())),
        }
    }
}

/// The answer the earlier `answers` already imply for `field`, so that it is not asked: no
/// in-process models without models, no "only that language" without a language to hire for,
/// the default overhead of two services for a workload that is offered none.
pub fn implied(field: &str, answers: &[(&str, toml::Value)]) -> Option<toml::Value> {
    let given = |f: &str| answers.iter().find(|(a, _)| *a == f).map(|(_, v)| v);
    match field {
        "needs.ml_in_process" => (given("needs.ml_models") == Some(&toml::Value::Boolean(false)))
            .then_some(toml::Value::Boolean(false)),
        "hiring.only" => (given("hiring.pool") == Some(&toml::Value::String("either".into())))
            .then_some(toml::Value::Boolean(false)),
        // Memory sizes the cores only for connections held open by real-time work.
        "cost.memory_per_core_gib" => {
            let none = |f: &str| number(given(f)) <= 0.0;
            (none("workload.realtime") || none("load.connections"))
                .then_some(toml::Value::Float(DEFAULT_MEMORY_PER_CORE_GIB))
        }
        // Asked only of a workload for which two services are offered (see
        // `advise::HYBRID_SHARE`): real-time or I/O calls, and data or ML, a quarter each.
        "hybrid.overhead" => {
            let share = |f: &str| number(given(f));
            let yes = |f: &str| given(f) == Some(&toml::Value::Boolean(true));
            let total: f64 = ["crud", "io", "realtime", "cpu", "data", "ml"]
                .iter()
                .map(|w| share(&format!("workload.{w}")))
                .sum();
            let part = |a: &str, b: &str| {
                (share(&format!("workload.{a}")) + share(&format!("workload.{b}")))
                    / total.max(f64::MIN_POSITIVE)
            };
            let offered = part("realtime", "io") >= 0.25
                && (part("data", "ml") >= 0.25 || yes("needs.ml_in_process"))
                && !yes("hiring.only");
            (!offered).then_some(toml::Value::Float(DEFAULT_HYBRID_OVERHEAD))
        }
        _ => None,
    }
}

/// A numeric answer as a float; 0 when not given or not a number.
fn number(v: Option<&toml::Value>) -> f64 {
    match v {
        Some(toml::Value::Float(v)) => *v,
        Some(toml::Value::Integer(v)) => *v as f64,
        _ => 0.0,
    }
}

/// A conflict among `answers` as soon as it can be seen, with the first question to ask again:
/// workload shares that add up to nothing.
pub fn conflict(answers: &[(&str, toml::Value)]) -> Option<(String, &'static str)> {
    const SHARES: [&str; 6] = [
        "workload.crud",
        "workload.io",
        "workload.realtime",
        "workload.cpu",
        "workload.data",
        "workload.ml",
    ];
    let shares: Vec<f64> = SHARES
        .iter()
        .filter_map(|f| answers.iter().find(|(a, _)| a == f))
        .filter_map(|(_, v)| v.as_float())
        .collect();
    (shares.len() == SHARES.len() && shares.iter().sum::<f64>() <= 0.0).then(|| {
        (
            "the workload shares add up to 0: give at least one of them a share".to_string(),
            SHARES[0],
        )
    })
}

impl Profile {
    /// A profile from questionnaire answers: `(field, value)` pairs as returned by
    /// [`Question::answer`]. Fields left out keep no default here; use every question.
    pub fn from_answers(answers: &[(&str, toml::Value)]) -> Result<Profile, ProfileError> {
        let mut root = toml::Table::new();
        for (field, value) in answers {
            let mut table = &mut root;
            let mut parts = field.split('.').peekable();
            while let Some(part) = parts.next() {
                if parts.peek().is_none() {
                    table.insert(part.to_string(), value.clone());
                } else {
                    let entry = table
                        .entry(part.to_string())
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    match entry {
                        toml::Value::Table(t) => table = t,
                        _ => {
                            return Err(ProfileError::Field {
                                source_name: "answers".to_string(),
                                field: field.to_string(),
                                problem: "clashes with another answer".to_string(),
                            })
                        }
                    }
                }
            }
        }
        let text = toml::to_string(&root).map_err(|e| ProfileError::Syntax {
            source_name: "answers".to_string(),
            message: e.to_string(),
        })?;
        Profile::parse(&text, "answers")
    }
}
