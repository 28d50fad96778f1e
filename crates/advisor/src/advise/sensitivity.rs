//! How firm the top choice is: for each input that matters, the smallest change that flips it,
//! and a tie when the flip lies within what nobody can claim to know — ±20% of the weights
//! (they are judgements), the measurements' own noise (the min–max range of the trials), or
//! the precision of the hand-set levels behind the scores ([`score::tie_band`]).
//!
//! Inputs varied: each weight alone from ×0.9 down to ×0 and from ×1.1 up to ×3 in steps of
//! 0.1; all weights jointly by ±20% towards each challenger; team skills by ±1 and ±2 steps,
//! alone and together; the peak ×0.5, ×2, ×0.25 and ×4; a two-service option's overhead
//! (`hybrid.overhead`) from 0 to 30 points; and every stack's figures at the ends of their
//! measured range (the winner at its slowest trial, a challenger at its fastest).

use serde::Serialize;

use super::measure::Side;
use super::score::{self, Context, Evaluation, Tweak, CLOSE_TOTALS, LEVEL_PRECISION};
use super::Criterion;
use crate::profile::{Profile, MAX_SKILL};

/// The sensitivity of the top choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sensitivity {
    /// The top choice with the inputs as given.
    pub winner: Option<String>,
    /// Per input that can flip the top choice, the smallest change found.
    pub flips: Vec<Flip>,
    /// Set when the top choice is not established.
    pub tie: Option<Tie>,
    /// What was varied.
    pub checked: Vec<String>,
}

/// The smallest change of one input that changes the top choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flip {
    /// Such as `weight of team skills`, `team skills`, `peak requests/s`, `measurement noise`.
    pub input: String,
    /// The change, such as `×0.7 (20% → 15%)`.
    pub change: String,
    /// The option that then comes first.
    pub winner: String,
    /// The flip as a sentence: "django overtakes fastapi if Python skill ≥ 4".
    pub sentence: String,
    /// Within ±20% of the weights or within the measurements' noise: a reason for a tie.
    pub within_uncertainty: bool,
}

/// Why the top choice is a tie, and with which options.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tie {
    pub with: Vec<String>,
    pub why: Vec<String>,
}

/// Weights are judgements: a change this small (±20%) is within what nobody can claim to know.
pub const WEIGHT_UNCERTAINTY: f64 = 0.2;

pub(crate) fn analyse(ctx: &Context, p: &Profile, base: &Evaluation) -> Sensitivity {
    let checked = vec![
        "each weight alone from ×0 to ×3".to_string(),
        "all weights jointly by ±20% towards each challenger".to_string(),
        "team skills by ±1 and ±2 steps".to_string(),
        "the peak ×0.5, ×2, ×0.25 and ×4".to_string(),
        "a two-service option's overhead from 0 to 30 points, when one is offered".to_string(),
        "each stack's figures across their measured min–max range".to_string(),
    ];
    let Some(winner) = base.winner().map(str::to_string) else {
        return Sensitivity {
            winner: None,
            flips: Vec::new(),
            tie: None,
            checked,
        };
    };
    let top = |p: &Profile, t: &Tweak| score::evaluate(ctx, p, t).winner().map(str::to_string);
    let flipped = |w: Option<String>| w.filter(|w| *w != winner);
    let mut flips = Vec::new();

    // Each weight alone.
    for (i, c) in Criterion::ALL.iter().enumerate() {
        let w0 = base.weights[i].weight;
        if w0 <= 0.0 {
            continue;
        }
        'steps: for step in 1..=20 {
            for m in [1.0 - 0.1 * step as f64, 1.0 + 0.1 * step as f64] {
                if m < -1e-9 {
                    continue;
                }
                let m = m.max(0.0);
                let mut t = Tweak::default();
                t.weights[i] = m;
                if let Some(new) = flipped(top(p, &t)) {
                    let w1 = score::weights(p, &t.weights)[i].weight;
                    flips.push(Flip {
                        input: format!("weight of {}", c.name()),
                        change: format!("×{m:.1} ({:.0}% → {:.0}%)", 100.0 * w0, 100.0 * w1),
                        sentence: format!(
                            "{new} overtakes {winner} if {} weighs {:.0}% instead of {:.0}%",
                            c.name(),
                            100.0 * w1,
                            100.0 * w0
                        ),
                        winner: new,
                        within_uncertainty: (m - 1.0).abs() <= WEIGHT_UNCERTAINTY + 1e-9,
                    });
                    break 'steps;
                }
            }
        }
    }

    // All weights at once, each 20% towards a challenger.
    let leader = &base.ranking[0];
    for other in base.ranking.iter().skip(1).take(3) {
        let mut t = Tweak::default();
        for (i, c) in Criterion::ALL.iter().enumerate() {
            let mine = leader.score(*c).and_then(|s| s.score).unwrap_or(0.0);
            let theirs = other.score(*c).and_then(|s| s.score).unwrap_or(0.0);
            t.weights[i] = if theirs > mine {
                1.0 + WEIGHT_UNCERTAINTY
            } else if theirs < mine {
                1.0 - WEIGHT_UNCERTAINTY
            } else {
                1.0
            };
        }
        if let Some(new) = flipped(top(p, &t)) {
            flips.push(Flip {
                input: "weights jointly".to_string(),
                change: format!("each ±20% towards {}", other.id),
                sentence: format!(
                    "{new} overtakes {winner} when every weight moves 20% in {}'s favour",
                    other.id
                ),
                winner: new,
                within_uncertainty: true,
            });
            break;
        }
    }

    // Team skills.
    let mut steps: Vec<(i8, i8)> = (-2i8..=2)
        .flat_map(|j| (-2i8..=2).map(move |y| (j, y)))
        .filter(|&(j, y)| (j, y) != (0, 0))
        .collect();
    steps.sort_by_key(|&(j, y)| (j.abs() + y.abs(), j.abs().max(y.abs())));
    for (dj, dp) in steps {
        let js = i16::from(p.team.javascript) + i16::from(dj);
        let py = i16::from(p.team.python) + i16::from(dp);
        let range = 0..=i16::from(MAX_SKILL);
        if !range.contains(&js) || !range.contains(&py) {
            continue;
        }
        let mut q = p.clone();
        q.team.javascript = js as u8;
        q.team.python = py as u8;
        if let Some(new) = flipped(top(&q, &Tweak::default())) {
            let cond = |name: &str, d: i8, v: i16| match d.signum() {
                1 => Some(format!("{name} skill ≥ {v}")),
                -1 => Some(format!("{name} skill ≤ {v}")),
                _ => None,
            };
            let conditions: Vec<String> = [cond("Python", dp, py), cond("JavaScript", dj, js)]
                .into_iter()
                .flatten()
                .collect();
            let mut change = Vec::new();
            if dp != 0 {
                change.push(format!("Python {} → {py}", p.team.python));
            }
            if dj != 0 {
                change.push(format!("JavaScript {} → {js}", p.team.javascript));
            }
            flips.push(Flip {
                input: "team skills".to_string(),
                change: change.join(", "),
                sentence: format!("{new} overtakes {winner} if {}", conditions.join(" and ")),
                winner: new,
                within_uncertainty: false,
            });
            break;
        }
    }

    // Peak load.
    for factor in [0.5, 2.0, 0.25, 4.0] {
        let mut q = p.clone();
        q.load.peak_rps *= factor;
        if let Some(new) = flipped(top(&q, &Tweak::default())) {
            flips.push(Flip {
                input: "peak requests/s".to_string(),
                change: format!("×{factor} ({} req/s)", score::rps(q.load.peak_rps)),
                sentence: format!(
                    "{new} overtakes {winner} at a peak of {} req/s",
                    score::rps(q.load.peak_rps)
                ),
                winner: new,
                within_uncertainty: false,
            });
            break;
        }
    }

    // The two-service option's overhead, a judgement in the profile: the value nearest the
    // given one, in half points from 0 to 30, at which the answer changes.
    if base.ranking.iter().any(|c| c.is_hybrid()) {
        let given = p.hybrid.overhead;
        let mut values: Vec<f64> = (0..=60)
            .map(|i| f64::from(i) * 0.5)
            .filter(|v| (v - given).abs() > 1e-9)
            .collect();
        values.sort_by(|a, b| (a - given).abs().total_cmp(&(b - given).abs()));
        for v in values {
            let mut q = p.clone();
            q.hybrid.overhead = v;
            if let Some(new) = flipped(top(&q, &Tweak::default())) {
                flips.push(Flip {
                    input: "hybrid overhead".to_string(),
                    change: format!("{} → {} points", score::number(given), score::number(v)),
                    sentence: format!(
                        "{new} overtakes {winner} if running two stacks costs {} points of 100 \
                         instead of {} (hybrid.overhead)",
                        score::number(v),
                        score::number(given)
                    ),
                    winner: new,
                    within_uncertainty: false,
                });
                break;
            }
        }
    }

    // Measurement noise: the winner's stacks at their slowest trials, every other stack at
    // its fastest.
    let winner_stacks: Vec<&String> = leader.parts.iter().map(|x| &x.stack).collect();
    let mut t = Tweak::default();
    for s in &ctx.stacks {
        let side = if winner_stacks.contains(&&s.id) {
            Side::Low
        } else {
            Side::High
        };
        t.sides.push((s.id.clone(), side));
    }
    if let Some(new) = flipped(top(p, &t)) {
        flips.push(Flip {
            input: "measurement noise".to_string(),
            change: format!("{winner} at its slowest trials, the others at their fastest"),
            sentence: format!(
                "{new} overtakes {winner} within the trials' min–max range ({winner} at its slowest trials, the others at their fastest)"
            ),
            winner: new,
            within_uncertainty: true,
        });
    }

    // The same change found by two inputs (a weight alone and the weights jointly) is one flip.
    let mut seen = Vec::new();
    flips.retain(|f| {
        let new = !seen.contains(&f.sentence);
        seen.push(f.sentence.clone());
        new
    });

    let mut why: Vec<String> = flips
        .iter()
        .filter(|f| f.within_uncertainty)
        .map(|f| format!("{} ({})", f.sentence, f.input))
        .collect();
    let mut with: Vec<String> = flips
        .iter()
        .filter(|f| f.within_uncertainty)
        .map(|f| f.winner.clone())
        .collect();
    let close = score::level_with_top(base);
    let band = close.iter().map(|(_, b)| *b).fold(CLOSE_TOTALS, f64::max);
    if !close.is_empty() {
        let ids: Vec<&str> = close.iter().map(|(c, _)| c.id.as_str()).collect();
        why.insert(
            0,
            if band > CLOSE_TOTALS {
                format!(
                    "{winner} and {} are within {band:.1} points, what the hand-set levels \
                     behind the scores cannot tell apart (±{LEVEL_PRECISION:.0} of 100 each)",
                    ids.join(", ")
                )
            } else {
                format!(
                    "{winner} and {} are less than {CLOSE_TOTALS} points apart",
                    ids.join(", ")
                )
            },
        );
        with.extend(ids.iter().map(|s| s.to_string()));
    }
    with.sort();
    with.dedup();
    let tie = (!why.is_empty()).then_some(Tie { with, why });
    Sensitivity {
        winner: Some(winner),
        flips,
        tie,
        checked,
    }
}
