//! The data embedded in the page as JSON: the run's header and every figure the page shows,
//! so a reader can take the numbers out of a mailed report (the page offers them as a
//! download) without the original `results.json`.

use serde_json::{json, Value};
use stackwise_results::summary::{Cell, Spread};
use stackwise_results::RunResult;

use crate::charts::{ScenarioCurves, StackStyle};
use crate::latency::quantile;

/// Version of this document's shape; raised when a field changes meaning or goes away.
pub const DATA_VERSION: u32 = 1;

fn spread(s: Option<Spread>) -> Value {
    s.map_or(
        Value::Null,
        |s| json!({"median": s.median, "min": s.min, "max": s.max, "n": s.n, "cv": s.cv}),
    )
}

fn cell(c: &Cell) -> Value {
    json!({
        "stack": c.stack,
        "scenario": c.scenario,
        "error": c.error,
        "throughput_rps": spread(c.throughput),
        "per_core_rps": spread(c.per_core),
        "p50_ms": spread(c.p50_ms),
        "p99_ms": spread(c.p99_ms),
        "connections": c.connections,
        "max_rps": c.max_rps.map(|(rps, conns)| json!({"rps": rps, "connections": conns})),
        "capacity_rps": c.capacity_rps,
        "capacity_per_core_rps": c.capacity_per_core,
        "capacity_missed_rps": c.capacity_missed_rps,
        "pss_peak_bytes": c.pss_peak_bytes,
        "cpu_ms_per_request": c.cpu_ms_per_request,
        "invalid": c.invalid,
        "other_load": c.other_load,
    })
}

/// The document: run header, stacks with their chart colours, cells, latency curves.
pub(crate) fn document(
    r: &RunResult,
    cells: &[Cell],
    curves: &[ScenarioCurves],
    styles: &[StackStyle],
) -> Value {
    let stacks: Vec<Value> = r
        .stacks
        .iter()
        .zip(styles)
        .map(|(s, style)| {
            json!({
                "id": s.id,
                "name": s.name,
                "language": s.language,
                "framework": s.framework,
                "framework_version": s.framework_version,
                "database": s.database,
                "workers": s.workers,
                "idle_pss_bytes": s.idle_pss_bytes,
                "error": s.error,
                "colour": style.colour,
            })
        })
        .collect();
    let latency: Vec<Value> = r
        .settings
        .scenarios
        .iter()
        .zip(curves)
        .flat_map(|(scenario, per_stack)| {
            per_stack.iter().filter_map(move |(stack, c)| {
                c.as_ref().ok().map(|c| {
                    let points: Vec<[f64; 2]> = c
                        .points
                        .iter()
                        .map(|(n, v)| [round(100.0 * quantile(*n), 4), *v])
                        .collect();
                    json!({"stack": stack, "scenario": scenario, "percentile_ms": points})
                })
            })
        })
        .collect();
    json!({
        "data_version": DATA_VERSION,
        "run": {
            "id": r.id,
            "tool": r.tool,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "quick": r.quick,
            "host": r.host,
            "versions": r.versions,
            "settings": r.settings,
        },
        "stacks": stacks,
        "cells": cells.iter().map(cell).collect::<Vec<_>>(),
        "latency": latency,
    })
}

fn round(x: f64, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (x * k).round() / k
}
