//! The `ml-image` scenario's requests and checks (docs/spec.md, `POST /predict/image`): input
//! images made from the seeds in `models/squeezenet-reference.json`, each a raw float32 tensor,
//! and the comparison of a stack's five most probable classes with the reference's.
//!
//! The images are generated rather than shipped: four of them would be 2.4 MB. The generator is
//! the one `models/squeezenet.py` uses, and the reference holds each image's SHA-256, so a
//! generator that drifted is caught by a test rather than by every stack failing `verify`.

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The network's input: one image of 3 channels of 224 × 224.
pub const SHAPE: [usize; 4] = [1, 3, 224, 224];
/// Bytes of one image, float32: 602,112.
pub const BYTES: usize = 4 * 3 * 224 * 224;

/// The reference answers, as `models/squeezenet.py` writes them.
#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    /// The model file they belong to.
    pub model: String,
    pub shape: Vec<usize>,
    pub classes: usize,
    /// Largest absolute difference allowed in a probability.
    pub tolerance: f64,
    pub images: Vec<Image>,
}

/// One input image and what the model answers for it.
#[derive(Debug, Clone, Deserialize)]
pub struct Image {
    /// What [`pixels`] makes the image from.
    pub seed: u64,
    /// Of the image's bytes.
    pub sha256: String,
    /// The five most probable classes, most probable first.
    pub top5: Vec<Class>,
}

/// A class and its probability.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Class {
    pub label: u64,
    pub probability: f64,
}

impl Reference {
    pub fn parse(text: &str) -> Result<Reference, String> {
        let r: Reference = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if r.shape != SHAPE {
            return Err(format!("shape {:?}, not {SHAPE:?}", r.shape));
        }
        if r.images.is_empty() || r.images.iter().any(|i| i.top5.len() != 5) {
            return Err("no images, or an image without five classes".into());
        }
        Ok(r)
    }

    /// The request bodies, one per image, in the reference's order.
    pub fn bodies(&self) -> Vec<Vec<u8>> {
        self.images.iter().map(|i| pixels(i.seed)).collect()
    }

    /// Checks a stack's answer for image `index`: the reference's five classes in its order,
    /// each probability within the tolerance.
    pub fn check(&self, answer: &Value, index: usize) -> Result<(), String> {
        let want = &self.images[index].top5;
        let list = answer
            .get("top5")
            .and_then(Value::as_array)
            .ok_or("the answer has no array `top5`")?;
        if list.len() != want.len() {
            return Err(format!(
                "{} classes in `top5`, not {}",
                list.len(),
                want.len()
            ));
        }
        for (k, (got, want)) in list.iter().zip(want).enumerate() {
            let label = got.get("label").and_then(Value::as_u64);
            if label != Some(want.label) {
                return Err(format!(
                    "top5[{k}]: label {label:?}, not {} (probability {})",
                    want.label, want.probability
                ));
            }
            let p = got
                .get("probability")
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("top5[{k}]: `probability` is not a number"))?;
            if (p - want.probability).abs() > self.tolerance {
                return Err(format!(
                    "top5[{k}]: probability of class {} is {p}, not {} (within {})",
                    want.label, want.probability, self.tolerance
                ));
            }
        }
        Ok(())
    }
}

/// The image of `seed` as the request's body, float32 little-endian (docs/spec.md): SplitMix64
/// from `seed` gives uniform numbers u = (output >> 40) / 2^24; the first three are each
/// channel's scale s = 2u, the next three its offset o = 2u − 1, then one per value in channel,
/// row, column order, each value u·s + o in f64 rounded once to f32.
pub fn pixels(seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f64 / (1u64 << 24) as f64
    };
    let scale: Vec<f64> = (0..3).map(|_| 2.0 * uniform()).collect();
    let offset: Vec<f64> = (0..3).map(|_| 2.0 * uniform() - 1.0).collect();
    let per_channel = SHAPE[2] * SHAPE[3];
    let mut out = Vec::with_capacity(BYTES);
    for c in 0..3 {
        for _ in 0..per_channel {
            let x = uniform() * scale[c] + offset[c];
            out.extend_from_slice(&(x as f32).to_le_bytes());
        }
    }
    out
}

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SHIPPED: &str = include_str!("../../../models/squeezenet-reference.json");

    fn answer(top: &[Class]) -> Value {
        let list: Vec<Value> = top
            .iter()
            .map(|c| serde_json::json!({"label": c.label, "probability": c.probability}))
            .collect();
        serde_json::json!({ "top5": list })
    }

    #[test]
    fn the_images_are_the_bytes_the_model_script_made() {
        let r = Reference::parse(SHIPPED).unwrap();
        assert_eq!((r.model.as_str(), r.classes), ("squeezenet.onnx", 1000));
        assert_eq!(r.images.len(), 4);
        for (image, body) in r.images.iter().zip(r.bodies()) {
            assert_eq!(body.len(), BYTES);
            assert_eq!(sha256(&body), image.sha256, "seed {}", image.seed);
        }
        // Not every image has the same most probable class, so an answer that ignores the
        // image cannot pass.
        let first: std::collections::BTreeSet<u64> =
            r.images.iter().map(|i| i.top5[0].label).collect();
        assert!(first.len() > 1, "{first:?}");
    }

    #[test]
    fn each_class_leads_the_next_by_far_more_than_the_tolerance() {
        let r = Reference::parse(SHIPPED).unwrap();
        for image in &r.images {
            for pair in image.top5.windows(2) {
                let lead = pair[0].probability - pair[1].probability;
                assert!(lead >= 20.0 * r.tolerance, "seed {}: {pair:?}", image.seed);
            }
        }
    }

    #[test]
    fn answers_are_checked_class_by_class_within_the_tolerance() {
        let r = Reference::parse(SHIPPED).unwrap();
        let top = r.images[1].top5.clone();
        assert_eq!(r.check(&answer(&top), 1), Ok(()));
        assert!(r.check(&answer(&top), 0).is_err(), "another image's answer");

        let mut near = top.clone();
        near[2].probability += 0.5 * r.tolerance;
        assert_eq!(r.check(&answer(&near), 1), Ok(()));
        let mut off = top.clone();
        off[2].probability += 2.0 * r.tolerance;
        assert!(r
            .check(&answer(&off), 1)
            .unwrap_err()
            .starts_with("top5[2]"));

        let mut swapped = top.clone();
        swapped.swap(3, 4);
        assert!(r
            .check(&answer(&swapped), 1)
            .unwrap_err()
            .contains("top5[3]: label"));
        assert!(r
            .check(&answer(&top[..4]), 1)
            .unwrap_err()
            .contains("4 classes"));
        assert!(r.check(&serde_json::json!({"top": []}), 1).is_err());
        let mut text = answer(&top);
        text["top5"][0]["probability"] = Value::from("0.2");
        assert!(r.check(&text, 1).unwrap_err().contains("not a number"));
    }
}
