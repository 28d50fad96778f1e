//! Comparisons of the real fixture with altered copies of itself.

#![allow(clippy::unwrap_used)]

mod support;

use stackwise_history::compare::{compare, Only};

#[test]
fn a_run_compared_with_itself_changes_nothing() {
    let a = support::fixture();
    let c = compare(&a, &a);
    assert!(c.differences.is_empty(), "{:?}", c.differences);
    assert!(c.only_a.is_empty() && c.only_b.is_empty());
    let planned = a.stacks.len() * a.settings.scenarios.len();
    assert_eq!(c.cells.len(), planned);
    for cell in &c.cells {
        assert_eq!(cell.per_core.percent(), Some(0.0), "{cell:?}");
        assert_eq!(cell.per_core.within_noise(), Some(true), "{cell:?}");
        assert_eq!(cell.p99_ms.within_noise(), Some(true), "{cell:?}");
        assert_eq!(cell.capacity_per_core.0, cell.capacity_per_core.1);
    }
}

#[test]
fn half_again_the_throughput_is_plus_50_percent_and_beyond_noise_where_trials_agree() {
    let a = support::fixture();
    let b = support::scaled(a.clone(), "express", 1.5);
    let c = compare(&a, &b);
    for cell in &c.cells {
        let pct = cell.per_core.percent().unwrap();
        if cell.stack == "express" {
            assert!((pct - 50.0).abs() < 1e-9, "{cell:?}");
            // Beyond noise exactly when the slowest scaled trial beats the fastest original.
            let (sa, sb) = (cell.per_core.a.unwrap(), cell.per_core.b.unwrap());
            let apart = sb.min > sa.max;
            assert_eq!(cell.per_core.within_noise(), Some(!apart), "{cell:?}");
            let (ca, cb) = cell.capacity_per_core;
            assert!((cb.unwrap() / ca.unwrap() - 1.5).abs() < 1e-9, "{cell:?}");
        } else {
            assert_eq!(pct, 0.0, "{cell:?}");
            assert_eq!(cell.per_core.within_noise(), Some(true), "{cell:?}");
        }
    }
}

#[test]
fn host_version_and_setting_differences_come_first() {
    let a = support::fixture();
    let mut b = a.clone();
    b.host.kernel = "6.19.0".into();
    b.versions.insert("node".into(), "22.1.0".into());
    b.versions.remove("postgres");
    b.stacks[0].framework_version = "9.9.9".into();
    b.settings.trials = 5;
    b.quick = true;
    let c = compare(&a, &b);
    let got: Vec<(&str, &str, &str)> = c
        .differences
        .iter()
        .map(|d| (d.what.as_str(), d.a.as_str(), d.b.as_str()))
        .collect();
    let stack = &a.stacks[0];
    let framework_a = format!("{} {}", stack.framework, stack.framework_version);
    let framework_b = format!("{} 9.9.9", stack.framework);
    let what = format!("{} framework", stack.id);
    assert_eq!(
        got,
        [
            ("kernel", "6.18.44-fc-v669", "6.19.0"),
            ("node", "20.20.2", "22.1.0"),
            ("postgres", "15.18 (Debian 15.18-0+deb12u1)", "-"),
            (what.as_str(), framework_a.as_str(), framework_b.as_str()),
            ("run", "full", "quick"),
            ("trials", "3", "5"),
        ]
    );
}

#[test]
fn what_only_one_side_has_is_listed() {
    let a = support::fixture();
    let mut b = a.clone();
    b.stacks.retain(|s| s.id != "django");
    b.settings.scenarios.retain(|s| s != "mixed");
    b.settings.scenarios.push("fortunes".into());
    // An interrupted run: fastapi never got to `upstream`.
    let fastapi = b.stacks.iter_mut().find(|s| s.id == "fastapi").unwrap();
    fastapi.scenarios.retain(|s| s.scenario != "upstream");
    let c = compare(&a, &b);
    assert_eq!(
        c.only_a,
        [
            Only::Stack("django".into()),
            Only::Scenario("mixed".into()),
            Only::Cell {
                stack: "fastapi".into(),
                scenario: "upstream".into()
            },
        ]
    );
    assert_eq!(c.only_b, [Only::Scenario("fortunes".into())]);
    // Every stack of both, in every scenario of both, but fastapi's upstream.
    let stacks = b.stacks.len();
    let scenarios = b.settings.scenarios.len() - 1;
    assert_eq!(c.cells.len(), stacks * scenarios - 1);
    let names: Vec<String> = c.only_a.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        ["stack django", "scenario mixed", "fastapi upstream"]
    );
}
