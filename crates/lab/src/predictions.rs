//! The `ml` scenario's requests and checks (docs/spec.md, `POST /predict`): batches of the
//! reference rows shipped beside the model (`models/digits-reference.json`), and the comparison
//! of a stack's predictions with the reference labels and probabilities.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

/// Rows per request of the load.
pub const BATCH: usize = 32;

/// The reference predictions, as `models/train.py` writes them.
#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    /// The model file they belong to.
    pub model: String,
    pub features: usize,
    pub classes: Vec<i64>,
    /// Largest absolute difference allowed in a probability.
    pub tolerance: f64,
    pub rows: Vec<Vec<f64>>,
    pub labels: Vec<i64>,
    pub probabilities: Vec<Vec<f64>>,
}

impl Reference {
    /// Reads and checks `path`: every row with its label and probabilities, of the stated sizes.
    pub fn load(path: &Path) -> Result<Reference, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        Reference::parse(&text).map_err(|e| format!("'{}': {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Reference, String> {
        let r: Reference = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let n = r.rows.len();
        if n == 0 || r.labels.len() != n || r.probabilities.len() != n {
            return Err("rows, labels and probabilities differ in number".into());
        }
        if r.rows.iter().any(|row| row.len() != r.features)
            || r.probabilities.iter().any(|p| p.len() != r.classes.len())
        {
            return Err("a row or a probability list has the wrong length".into());
        }
        Ok(r)
    }

    /// The body of a request for rows `range`, written compactly, whole numbers as integers.
    pub fn body(&self, range: std::ops::Range<usize>) -> String {
        let rows: Vec<Vec<Value>> = self.rows[range]
            .iter()
            .map(|row| row.iter().map(|&x| number(x)).collect())
            .collect();
        serde_json::json!({ "rows": rows }).to_string()
    }

    /// The load's bodies: consecutive batches of [`BATCH`] rows.
    pub fn batches(&self) -> Vec<(std::ops::Range<usize>, String)> {
        (0..self.rows.len() / BATCH)
            .map(|k| {
                let range = k * BATCH..(k + 1) * BATCH;
                (range.clone(), self.body(range))
            })
            .collect()
    }

    /// Checks a stack's answer to the request for rows `range`: one prediction per row, in
    /// order, its label the reference's and every probability within the tolerance.
    pub fn check(&self, answer: &Value, range: std::ops::Range<usize>) -> Result<(), String> {
        let list = answer
            .get("predictions")
            .and_then(Value::as_array)
            .ok_or("the answer has no array `predictions`")?;
        if list.len() != range.len() {
            return Err(format!(
                "{} predictions for {} rows",
                list.len(),
                range.len()
            ));
        }
        for (p, i) in list.iter().zip(range) {
            let label = p.get("label").and_then(Value::as_i64);
            if label != Some(self.labels[i]) {
                return Err(format!("row {i}: label {label:?}, not {}", self.labels[i]));
            }
            let probs = p
                .get("probabilities")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("row {i}: no array `probabilities`"))?;
            if probs.len() != self.classes.len() {
                return Err(format!(
                    "row {i}: {} probabilities, not {}",
                    probs.len(),
                    self.classes.len()
                ));
            }
            for (c, (got, want)) in probs.iter().zip(&self.probabilities[i]).enumerate() {
                let got = got
                    .as_f64()
                    .ok_or_else(|| format!("row {i}: probability {c} is not a number"))?;
                if (got - want).abs() > self.tolerance {
                    return Err(format!(
                        "row {i}: probability of class {c} is {got}, not {want} (within {})",
                        self.tolerance
                    ));
                }
            }
        }
        Ok(())
    }
}

/// `x` as JSON, an integer when it is whole.
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SHIPPED: &str = include_str!("../../../models/digits-reference.json");

    fn answer(r: &Reference, range: std::ops::Range<usize>) -> Value {
        let predictions: Vec<Value> = range
            .map(|i| serde_json::json!({"label": r.labels[i], "probabilities": r.probabilities[i]}))
            .collect();
        serde_json::json!({ "predictions": predictions })
    }

    #[test]
    fn the_shipped_reference_loads_and_its_labels_are_clear_winners() {
        let r = Reference::parse(SHIPPED).unwrap();
        assert_eq!((r.rows.len(), r.features, r.classes.len()), (256, 64, 10));
        assert_eq!(r.model, "digits.onnx");
        for (i, p) in r.probabilities.iter().enumerate() {
            let mut sorted = p.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            assert!(sorted[0] - sorted[1] >= 0.01, "row {i}: {p:?}");
            let best = p
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            assert_eq!(r.classes[best], r.labels[i], "row {i}");
        }
    }

    #[test]
    fn the_load_s_bodies_are_eight_batches_of_integers() {
        let r = Reference::parse(SHIPPED).unwrap();
        let batches = r.batches();
        assert_eq!(batches.len(), 8);
        let (range, body) = &batches[1];
        assert_eq!(*range, 32..64);
        let v: Value = serde_json::from_str(body).unwrap();
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 32);
        assert!(rows[0].as_array().unwrap().iter().all(Value::is_i64));
        assert!(!body.contains(' ') && !body.contains(".0"));
    }

    #[test]
    fn predictions_are_checked_label_exactly_and_probabilities_within_the_tolerance() {
        let r = Reference::parse(SHIPPED).unwrap();
        let good = answer(&r, 0..32);
        assert_eq!(r.check(&good, 0..32), Ok(()));
        let mut near = good.clone();
        let p = &mut near["predictions"][3]["probabilities"][0];
        *p = Value::from(p.as_f64().unwrap() + 0.5e-5);
        assert_eq!(r.check(&near, 0..32), Ok(()));
        let mut off = good.clone();
        let p = &mut off["predictions"][3]["probabilities"][0];
        *p = Value::from(p.as_f64().unwrap() + 2e-5);
        assert!(r.check(&off, 0..32).unwrap_err().contains("row 3"));
        let mut label = good.clone();
        label["predictions"][5]["label"] = Value::from((r.labels[5] + 1) % 10);
        assert!(r.check(&label, 0..32).unwrap_err().contains("row 5: label"));
        assert!(r.check(&good, 32..64).is_err(), "another batch's answer");
        assert!(r
            .check(&answer(&r, 0..31), 0..32)
            .unwrap_err()
            .contains("31 predictions"));
    }
}
