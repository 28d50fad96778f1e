//! The curated facts file: it parses, every entry is dated and sourced, ids are unique, and
//! every subject names a stack of `stacks/` or a language.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use stackwise_advisor::facts::{self, Fact};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The stack ids of `stacks/*/stack.toml`, plus the languages facts may be about.
fn known_subjects() -> BTreeSet<String> {
    let mut known: BTreeSet<String> = ["node", "python", "javascript", "typescript"]
        .map(String::from)
        .into();
    let stacks = repo_root().join("stacks");
    for entry in std::fs::read_dir(&stacks).unwrap() {
        let manifest = entry.unwrap().path().join("stack.toml");
        if !manifest.is_file() {
            continue;
        }
        let value: toml::Table = toml::from_str(&std::fs::read_to_string(&manifest).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        let id = value["id"].as_str().unwrap().to_string();
        known.insert(id);
    }
    assert!(
        known.len() > 4,
        "no stack manifests found under {}",
        stacks.display()
    );
    known
}

/// The 4-digit numbers in `s` read as years.
fn years(s: &str) -> Vec<u32> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 4 {
            out.push(chars[start..i].iter().collect::<String>().parse().unwrap());
        }
        i = i.max(start + 1);
    }
    out
}

#[test]
fn the_file_parses_and_is_not_empty() {
    let text = std::fs::read_to_string(repo_root().join("data/facts.toml")).unwrap();
    let parsed = facts::parse(&text).unwrap();
    assert_eq!(parsed, facts::all(), "the embedded copy is the file");
    assert!(facts::all().len() >= 50, "{}", facts::all().len());
}

#[test]
fn every_fact_has_a_source_and_a_year_between_2000_and_2026() {
    for f in facts::all() {
        assert!(!f.source.trim().is_empty(), "{}: no source", f.id);
        assert!(
            years(&f.year).iter().any(|y| (2000..=2026).contains(y)),
            "{}: year {:?} holds no year between 2000 and 2026",
            f.id,
            f.year
        );
        assert!(
            years(&f.year).iter().all(|y| (2000..=2026).contains(y)),
            "{}: year {:?} out of range",
            f.id,
            f.year
        );
        assert!(!f.statement.trim().is_empty(), "{}: no statement", f.id);
        assert!(
            f.value.as_deref().is_none_or(|v| !v.trim().is_empty()),
            "{}: empty value (leave it out instead)",
            f.id
        );
    }
}

#[test]
fn years_finds_four_digit_numbers_only() {
    assert_eq!(years("2023–2025"), [2023, 2025]);
    assert_eq!(years("2020, repeated 2025"), [2020, 2025]);
    assert!(years("current").is_empty());
    assert!(years("12345 and 99").is_empty());
}

#[test]
fn ids_are_unique_and_kebab_case() {
    let mut seen = BTreeSet::new();
    for f in facts::all() {
        assert!(seen.insert(f.id.as_str()), "duplicate id {}", f.id);
        assert!(
            !f.id.is_empty()
                && !f.id.starts_with('-')
                && !f.id.ends_with('-')
                && !f.id.contains("--")
                && f.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "id {:?} is not kebab-case",
            f.id
        );
    }
}

#[test]
fn every_subject_is_a_stack_or_a_language() {
    let known = known_subjects();
    for f in facts::all() {
        for s in &f.subject {
            assert!(known.contains(s), "{}: unknown subject {s:?}", f.id);
        }
    }
}

/// A fact without a subject is about method (ADRs, the benchmarks' history), never a stack.
#[test]
fn only_facts_about_method_have_no_subject() {
    for f in facts::all().iter().filter(|f| f.subject.is_empty()) {
        assert!(
            ["adr", "published-benchmark"].contains(&f.topic.as_str()),
            "{}: no subject but topic {}",
            f.id,
            f.topic
        );
    }
}

/// The non-measured criteria the advisor weighs have facts on both sides.
#[test]
fn the_advisors_criteria_have_facts_for_both_languages() {
    for topic in [
        "admin",
        "typing",
        "orm",
        "realtime",
        "ml",
        "runtime",
        "popularity",
    ] {
        for side in [
            &[
                "node",
                "express",
                "fastify",
                "nestjs",
                "node-http",
                "typescript",
            ][..],
            &["python", "django", "fastapi", "flask"][..],
        ] {
            let n = facts::all()
                .iter()
                .filter(|f| {
                    f.topic == topic && f.subject.iter().any(|s| side.contains(&s.as_str()))
                })
                .count();
            assert!(n > 0, "no {topic} fact about any of {side:?}");
        }
    }
}

#[test]
fn get_and_about_find_facts() {
    let admin: &Fact = facts::get("django-admin").unwrap();
    assert_eq!(admin.topic, "admin");
    assert!(admin.primary);
    assert!(facts::get("no-such-fact").is_none());
    let about_django: Vec<&str> = facts::about("django").map(|f| f.id.as_str()).collect();
    assert!(about_django.contains(&"django-admin"), "{about_django:?}");
    assert!(
        about_django.contains(&"django-channels"),
        "{about_django:?}"
    );
    assert!(
        facts::about("django").all(|f| f.subject.iter().any(|s| s == "django")),
        "about gives only facts naming the subject"
    );
    assert_eq!(facts::about("cobol").count(), 0);
}

#[test]
fn the_multi_figure_rows_are_split_one_figure_per_fact() {
    for fw in [
        "nodejs", "express", "fastify", "nestjs", "django", "flask", "fastapi",
    ] {
        let f = facts::get(&format!("so-2023-admired-{fw}")).unwrap();
        assert!(f.value.as_deref().unwrap().ends_with('%'), "{}", f.id);
    }
}
