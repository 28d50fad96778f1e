//! The repository's own stacks: every manifest under `stacks/` loads, and carries an
//! `[ecosystem]` table whose every level cites a fact that `data/facts.toml` holds, so no
//! stack silently goes without an ecosystem score and no score's evidence is unsourced.
//!
//! The lab does not read `data/` (the facts are the advisor's), so the citations are checked
//! here, over the files, rather than when a manifest is loaded. Which stacks take part in
//! `ml-image` is checked here too.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use stackwise_lab::manifest::discover;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ids of `data/facts.toml`.
fn fact_ids() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo_root().join("data/facts.toml")).unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    let ids: BTreeSet<String> = file["fact"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() > 50, "{} facts", ids.len());
    ids
}

#[test]
fn every_stack_parses_and_cites_existing_facts() {
    let facts = fact_ids();
    let stacks = discover(&repo_root().join("stacks")).unwrap_or_else(|e| panic!("{e}"));
    assert!(stacks.len() >= 7, "{} stacks", stacks.len());
    for stack in &stacks {
        let Some(ecosystem) = &stack.manifest.ecosystem else {
            panic!("{}: stack.toml has no [ecosystem] table", stack.id());
        };
        for (key, level) in ecosystem.levels() {
            assert!(
                facts.contains(&level.fact),
                "{}: ecosystem.{key} cites '{}', which is not in data/facts.toml",
                stack.id(),
                level.fact
            );
            assert!((0.0..=100.0).contains(&level.level));
        }
    }
}

/// `ml-image` measures the library each stack runs `ml` with on a heavier model: every stack
/// whose `[ml]` runs onnxruntime takes part, and only those (scikit-learn cannot run the network).
#[test]
fn every_onnxruntime_stack_serves_the_image_model_and_no_other() {
    let stacks = discover(&repo_root().join("stacks")).unwrap();
    let mut serving = Vec::new();
    for stack in &stacks {
        let Some(ml) = &stack.manifest.ml else {
            continue;
        };
        assert_eq!(
            ml.image,
            ml.library.starts_with("onnxruntime"),
            "{}: [ml] library '{}', image = {}",
            stack.id(),
            ml.library,
            ml.image
        );
        if ml.image {
            serving.push(stack.id().to_string());
        }
    }
    for id in [
        "node-http",
        "express",
        "fastify",
        "nestjs",
        "bun",
        "fastapi",
        "flask",
        "django",
    ] {
        assert!(
            serving.iter().any(|s| s == id),
            "{id} does not serve ml-image"
        );
    }
    assert!(!serving.iter().any(|s| s == "fastapi-sklearn"));
}

/// The levels that decide rankings are those the advisor held before they moved into the
/// manifests; a change here is a change of judgement, to be made with its fact.
#[test]
fn the_seed_frameworks_keep_their_levels() {
    let stacks = discover(&repo_root().join("stacks")).unwrap();
    let levels = |id: &str| -> Vec<f64> {
        let s = stacks.iter().find(|s| s.id() == id).unwrap();
        let e = s.manifest.ecosystem.as_ref().unwrap();
        [&e.admin, &e.server_pages, &e.orm, &e.typing, &e.websockets]
            .iter()
            .map(|l| l.level)
            .collect()
    };
    assert_eq!(levels("django"), [100.0, 100.0, 100.0, 40.0, 60.0]);
    assert_eq!(levels("flask"), [60.0, 90.0, 70.0, 40.0, 40.0]);
    assert_eq!(levels("fastapi"), [50.0, 60.0, 70.0, 70.0, 70.0]);
    assert_eq!(levels("fastapi-granian"), levels("fastapi"));
    assert_eq!(levels("express"), [50.0, 70.0, 70.0, 60.0, 90.0]);
    assert_eq!(levels("fastify"), [40.0, 60.0, 70.0, 80.0, 90.0]);
    assert_eq!(levels("nestjs"), [50.0, 60.0, 90.0, 100.0, 100.0]);
    assert_eq!(levels("node-http"), [20.0, 30.0, 70.0, 60.0, 80.0]);
}

/// The bundled reference results carry each stack's levels as its manifest gives them, so the
/// advice before a run of one's own scores today's judgements.
#[test]
fn the_reference_results_carry_the_manifests_levels() {
    let stacks = discover(&repo_root().join("stacks")).unwrap();
    let reference =
        stackwise_results::RunResult::load(&repo_root().join("data/reference/results.json"))
            .unwrap();
    assert!(!reference.stacks.is_empty());
    for record in &reference.stacks {
        let stack = stacks.iter().find(|s| s.id() == record.id).unwrap();
        assert_eq!(
            record.ecosystem, stack.manifest.ecosystem,
            "{}: the reference's levels differ from its stack.toml; run \
             `python3 scripts/reference.py --ecosystem data/reference/results.json`",
            record.id
        );
    }
}
