//! The project profile: the template parses and matches the questionnaire's defaults, shares
//! are normalised, and every bad value gets a one-line error naming its field.

#![allow(clippy::unwrap_used)]

use stackwise_advisor::profile::{Kind, Pool, Profile, QUESTIONS, TEMPLATE};

const MINIMAL: &str = r#"
[workload]
crud = 3
io = 1
[load]
peak_rps = 500
p99_ms = 50
[team]
javascript = 2
python = 4
[cost]
core_hour = 0.05
monthly_budget = 300
"#;

fn error(text: &str) -> String {
    Profile::parse(text, "profile.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn the_template_parses_with_its_defaults() {
    let p = Profile::parse(TEMPLATE, "template").unwrap();
    assert_eq!(p.load.peak_rps, 1000.0);
    assert_eq!(p.team.javascript, 3);
    assert_eq!(p.hiring.pool, Pool::Either);
    assert_eq!(p.cost.currency, "USD");
}

#[test]
fn the_questionnaire_defaults_are_the_template() {
    let answers: Vec<(&str, toml::Value)> = QUESTIONS
        .iter()
        .map(|q| (q.field, q.answer("").unwrap()))
        .collect();
    let asked = Profile::from_answers(&answers).unwrap();
    let template = Profile::parse(TEMPLATE, "template").unwrap();
    assert_eq!(asked, template);
}

#[test]
fn shares_are_normalised_and_defaults_filled() {
    let p = Profile::parse(MINIMAL, "profile.toml").unwrap();
    assert_eq!(p.workload.crud, 0.75);
    assert_eq!(p.workload.io, 0.25);
    assert_eq!(p.workload.ml, 0.0);
    assert_eq!(p.name, "the backend");
    assert!(!p.needs.admin && !p.hiring.only);
    assert_eq!(p.load.connections, 0);
}

#[test]
fn bad_values_name_their_field() {
    assert_eq!(
        error(&MINIMAL.replace("python = 4", "python = 7")),
        "profile.toml: team.python must be between 0 and 5, got 7"
    );
    assert_eq!(
        error(
            &MINIMAL
                .replace("crud = 3", "crud = 0")
                .replace("io = 1", "io = 0")
        ),
        "profile.toml: workload shares must add up to more than 0"
    );
    assert_eq!(
        error(&MINIMAL.replace("io = 1", "io = -1")),
        "profile.toml: workload.io must be a share of 0 or more, got -1"
    );
    assert_eq!(
        error(&MINIMAL.replace("peak_rps = 500", "peak_rps = 0")),
        "profile.toml: load.peak_rps must be a number above 0, got 0"
    );
    assert_eq!(
        error(&MINIMAL.replace("core_hour = 0.05", "core_hour = -0.05")),
        "profile.toml: cost.core_hour must be a number above 0, got -0.05"
    );
    assert_eq!(
        error(&format!("{MINIMAL}[hybrid]\noverhead = -1\n")),
        "profile.toml: hybrid.overhead must be between 0 and 100 points, got -1"
    );
    assert_eq!(
        Profile::parse(MINIMAL, "profile.toml")
            .unwrap()
            .hybrid
            .overhead,
        5.0,
        "the default, shown with every two-service option"
    );
    let e = error(&MINIMAL.replace("[cost]", "[needs]\nml_in_process = true\n[cost]"));
    assert!(
        e.starts_with("profile.toml: needs.ml_in_process is true but needs.ml_models is false"),
        "{e}"
    );
}

#[test]
fn syntax_and_unknown_fields_are_errors_on_one_line() {
    for (text, expect) in [
        (MINIMAL.replace("python = 4", "pyton = 4"), "pyton"),
        (MINIMAL.replace("[load]", "[lode]"), "lode"),
        (
            MINIMAL.replace("[cost]\ncore_hour = 0.05\nmonthly_budget = 300\n", ""),
            "cost",
        ),
        (
            MINIMAL.replace("javascript = 2", "javascript = \"lots\""),
            "javascript",
        ),
        ("[workload".to_string(), "profile.toml"),
        (
            MINIMAL
                .replace("[team]", "[hiring]")
                .replace("javascript = 2\n", "")
                .replace("python = 4\n", ""),
            "the [team] table is missing",
        ),
    ] {
        let e = error(&text);
        assert!(e.starts_with("profile.toml: "), "{e}");
        assert!(e.contains(expect), "{e} should name {expect}");
        assert!(!e.contains('\n'), "one line: {e:?}");
    }
}

#[test]
fn answers_are_checked_and_empty_takes_the_default() {
    let skill = QUESTIONS.iter().find(|q| q.field == "team.python").unwrap();
    assert_eq!(skill.kind, Kind::Skill);
    assert_eq!(skill.answer("").unwrap(), toml::Value::Integer(3));
    assert_eq!(skill.answer(" 5 ").unwrap(), toml::Value::Integer(5));
    assert_eq!(
        skill.answer("9").unwrap_err(),
        "team.python expects 0 to 5, got '9'"
    );
    let yes = QUESTIONS.iter().find(|q| q.field == "needs.admin").unwrap();
    assert_eq!(yes.answer("Y").unwrap(), toml::Value::Boolean(true));
    assert!(yes.answer("maybe").unwrap_err().contains("yes or no"));
    let pool = QUESTIONS.iter().find(|q| q.field == "hiring.pool").unwrap();
    assert_eq!(
        pool.answer("Python").unwrap(),
        toml::Value::String("python".into())
    );
    assert!(pool
        .answer("rust")
        .unwrap_err()
        .contains("either, javascript, python"));
    let peak = QUESTIONS
        .iter()
        .find(|q| q.field == "load.peak_rps")
        .unwrap();
    assert!(peak.answer("-3").is_err());
    assert_eq!(peak.answer("2500").unwrap(), toml::Value::Float(2500.0));
    // What a profile file may not hold is refused when typed, not once every answer is in.
    assert_eq!(
        peak.answer("0").unwrap_err(),
        "load.peak_rps must be a number above 0, got 0"
    );
    let overhead = QUESTIONS
        .iter()
        .find(|q| q.field == "hybrid.overhead")
        .unwrap();
    assert_eq!(
        overhead.answer("150").unwrap_err(),
        "hybrid.overhead must be between 0 and 100 points, got 150"
    );
    assert_eq!(overhead.answer("0").unwrap(), toml::Value::Float(0.0));
}

#[test]
fn numbers_are_taken_in_the_forms_people_type() {
    let ask = |field: &str, typed: &str| {
        QUESTIONS
            .iter()
            .find(|q| q.field == field)
            .unwrap()
            .answer(typed)
    };
    let float = |v: f64| Ok(toml::Value::Float(v));
    assert_eq!(ask("workload.crud", "60%"), float(60.0));
    assert_eq!(ask("workload.crud", " 60 % "), float(60.0));
    assert_eq!(ask("load.peak_rps", "2,000"), float(2000.0));
    assert_eq!(ask("load.peak_rps", "10k"), float(10_000.0));
    assert_eq!(ask("load.peak_rps", "1.5M"), float(1_500_000.0));
    assert_eq!(ask("load.peak_rps", "2000 req/s"), float(2000.0));
    assert_eq!(ask("load.peak_rps", "1_000_000"), float(1_000_000.0));
    assert_eq!(ask("load.p99_ms", "100ms"), float(100.0));
    assert_eq!(ask("load.p99_ms", "0.25s"), float(250.0));
    assert_eq!(ask("cost.core_hour", "$0.04"), float(0.04));
    assert_eq!(ask("cost.monthly_budget", "1,500"), float(1500.0));
    assert_eq!(
        ask("load.connections", "10k"),
        Ok(toml::Value::Integer(10_000))
    );
    // A decimal comma is refused rather than read as a thousands separator.
    let e = ask("load.peak_rps", "1,5").unwrap_err();
    assert!(e.contains("such as 2000, 2,000 or 10k"), "{e}");
    assert!(ask("load.connections", "2.5").is_err());
    assert!(
        ask("load.p99_ms", "10k").is_err(),
        "k is not a unit of time"
    );
    assert!(ask("workload.cpu", "lots").is_err());
}

#[test]
fn every_profile_field_has_a_question() {
    let p = Profile::parse(TEMPLATE, "template").unwrap();
    let table: toml::Table = toml::from_str(&p.to_toml()).unwrap();
    let mut fields = Vec::new();
    for (k, v) in &table {
        match v {
            toml::Value::Table(t) => fields.extend(t.keys().map(|s| format!("{k}.{s}"))),
            _ => fields.push(k.clone()),
        }
    }
    for f in fields {
        assert!(
            QUESTIONS.iter().any(|q| q.field == f),
            "no question for {f}"
        );
    }
}

#[test]
fn memory_per_core_is_asked_only_of_real_time_work_with_connections() {
    use stackwise_advisor::profile::{implied, DEFAULT_MEMORY_PER_CORE_GIB};
    let field = "cost.memory_per_core_gib";
    let answers = |realtime: f64, connections: i64| {
        vec![
            ("workload.realtime", toml::Value::Float(realtime)),
            ("load.connections", toml::Value::Integer(connections)),
        ]
    };
    let default = Some(toml::Value::Float(DEFAULT_MEMORY_PER_CORE_GIB));
    assert_eq!(implied(field, &answers(0.0, 100_000)), default);
    assert_eq!(implied(field, &answers(0.3, 0)), default);
    assert_eq!(implied(field, &answers(0.3, 100_000)), None);
    // A profile file without it takes the default; a bad one is named.
    let p = Profile::parse(&TEMPLATE.replace("memory_per_core_gib = 4 ", ""), "p.toml").unwrap();
    assert_eq!(p.cost.memory_per_core_gib, DEFAULT_MEMORY_PER_CORE_GIB);
    let bad = TEMPLATE.replace("memory_per_core_gib = 4 ", "memory_per_core_gib = 0 ");
    let err = Profile::parse(&bad, "p.toml").unwrap_err().to_string();
    assert!(err.contains("cost.memory_per_core_gib"), "{err}");
}
