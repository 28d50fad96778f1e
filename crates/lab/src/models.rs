//! The `data`, `ml` and `ml-image` scenarios' fixed inputs: the model files servers load (from `models/`,
//! embedded so that the binary needs no checkout at run time) and the request bodies the lab
//! sends, each made once per process.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use stackwise_results::catalogue::Body;

use crate::images;
use crate::orders;
use crate::predictions::Reference;

/// The files of `models/` a server may load, by name.
const FILES: [(&str, &[u8]); 4] = [
    ("digits.onnx", include_bytes!("../../../models/digits.onnx")),
    (
        "squeezenet.onnx",
        include_bytes!("../../../models/squeezenet.onnx"),
    ),
    (
        "digits.joblib",
        include_bytes!("../../../models/digits.joblib"),
    ),
    (
        "versions.json",
        include_bytes!("../../../models/versions.json"),
    ),
];

/// The reference predictions the `ml` checks compare with.
const REFERENCE: &str = include_str!("../../../models/digits-reference.json");

/// The reference rows with their labels and probabilities, parsed once.
pub fn reference() -> &'static Reference {
    static R: OnceLock<Reference> = OnceLock::new();
    R.get_or_init(|| {
        Reference::parse(REFERENCE).unwrap_or_else(|e| {
            // Embedded at build time and tested: it cannot fail in a built binary.
            unreachable!("models/digits-reference.json: {e}")
        })
    })
}

/// The reference answers the `ml-image` checks compare with.
const IMAGE_REFERENCE: &str = include_str!("../../../models/squeezenet-reference.json");

/// The `ml-image` reference: the images' seeds and their five most probable classes, parsed once.
pub fn image_reference() -> &'static images::Reference {
    static R: OnceLock<images::Reference> = OnceLock::new();
    R.get_or_init(|| {
        images::Reference::parse(IMAGE_REFERENCE).unwrap_or_else(|e| {
            // Embedded at build time and tested: it cannot fail in a built binary.
            unreachable!("models/squeezenet-reference.json: {e}")
        })
    })
}

/// The lab's CSV of orders (seed 42, 20,000 rows), made once.
pub fn orders_body() -> &'static str {
    static B: OnceLock<String> = OnceLock::new();
    B.get_or_init(|| orders::body(orders::SEED, orders::ROWS))
}

/// The bodies a request carrying `body` sends, in turn: none for a GET, the one CSV of orders,
/// the eight batches of 32 reference rows, or the reference's four images.
pub fn bodies(body: Body) -> &'static [Vec<u8>] {
    static ORDERS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    static DIGITS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    static IMAGES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    match body {
        Body::None => &[],
        Body::Orders => ORDERS.get_or_init(|| vec![orders_body().as_bytes().to_vec()]),
        Body::Digits => DIGITS.get_or_init(|| {
            reference()
                .batches()
                .into_iter()
                .map(|(_, b)| b.into_bytes())
                .collect()
        }),
        Body::Image => IMAGES.get_or_init(|| image_reference().bodies()),
    }
}

/// Writes the model files into a folder of `cache_dir` named by their content, once, and
/// returns it: the `MODELS_DIR` servers are given. A folder already there is trusted only if
/// every file in it has the embedded bytes.
pub fn install(cache_dir: &Path) -> std::io::Result<PathBuf> {
    let mut hash = Sha256::new();
    for (name, bytes) in FILES {
        hash.update(name.as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    }
    let digest = hash.finalize();
    let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let dir = cache_dir.join("models").join(short);
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in FILES {
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|on_disk| on_disk == bytes) {
            continue;
        }
        // Another run may be writing the same file: each writes its own and renames it.
        let tmp = dir.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
    }
    dir.canonicalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_reference_parses_into_eight_batches_of_32() {
        let r = reference();
        assert_eq!(r.rows.len(), 256);
        let digits = bodies(Body::Digits);
        assert_eq!(digits.len(), 8);
        assert!(digits.iter().all(|b| b.starts_with(b"{\"rows\":[[")));
        assert!(bodies(Body::None).is_empty());
        assert_eq!(bodies(Body::Orders)[0].len(), 1_103_238);
        let images = bodies(Body::Image);
        assert_eq!(images.len(), 4);
        assert!(images.iter().all(|b| b.len() == images::BYTES));
    }

    #[test]
    fn the_model_files_are_written_once_and_mended_when_changed() {
        let cache = tempfile::tempdir().unwrap();
        let dir = install(cache.path()).unwrap();
        let onnx = dir.join("digits.onnx");
        assert_eq!(std::fs::read(&onnx).unwrap(), FILES[0].1);
        std::fs::write(&onnx, b"broken").unwrap();
        assert_eq!(install(cache.path()).unwrap(), dir);
        assert_eq!(std::fs::read(&onnx).unwrap(), FILES[0].1);
    }
}
