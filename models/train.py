#!/usr/bin/env python3
"""Trains the `ml` scenario's model and writes everything that ships beside it.

The model is a gradient-boosted classifier of scikit-learn's bundled digits data (1,797 images of
8×8 pixels, each pixel an integer 0..16; ten classes), so nothing is downloaded. Gradient
boosting rather than a random forest: a forest of the same accuracy is two to four times larger
in ONNX, because every leaf of every tree stores a weight for each of the ten classes.

Writes, next to this script (see README.md):

- `digits.onnx`: the model, exported with skl2onnx; input `input`, float32 [N, 64]; outputs
  `label`, int64 [N], and `probabilities`, float32 [N, 10] (zipmap off: a plain tensor);
- `digits.joblib`: the same fitted model for scikit-learn's own predict (the `ml` scenario's
  scikit-learn variant); a pickle, so it loads only with the scikit-learn version recorded here;
- `digits-reference.json`: a fixed batch of held-out rows with the classes and probabilities
  onnxruntime computes for them, which `stackwise verify` checks every stack against;
- `versions.json`: the exact versions used, the held-out accuracy, the model's size and hash,
  and how far scikit-learn's own predict_proba is from onnxruntime's on the reference batch.

Run with the versions pinned in requirements.txt: `python models/train.py`. Every seed is
fixed; the same versions give the same bytes.
"""
import hashlib
import json
import pathlib
import platform
import sys

import joblib
import numpy as np
import onnx
import onnxruntime
import skl2onnx
import sklearn
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_digits
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split

HERE = pathlib.Path(__file__).resolve().parent
SEED = 0
# Opsets every onnxruntime of the last years runs, in Python and in onnxruntime-node alike.
OPSETS = {"": 17, "ai.onnx.ml": 3}
# The reference batch: this many held-out rows, in the held-out set's order, skipping any whose
# two most probable classes are closer than MARGIN, so that the expected class cannot depend on
# float summation order or on how an implementation breaks ties.
REFERENCE_ROWS = 256
MARGIN = 0.01
# Absolute tolerance for every probability (docs/spec.md, `ml`).
TOLERANCE = 1e-5


def f32(x):
    """A float32 as the shortest decimal that reads back as the same float32."""
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


def main():
    x, y = load_digits(return_X_y=True)
    x = x.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=SEED, stratify=y
    )
    model = GradientBoostingClassifier(
        n_estimators=50, max_depth=3, learning_rate=0.2, random_state=SEED
    )
    model.fit(x_train, y_train)

    onx = convert_sklearn(
        model,
        initial_types=[("input", FloatTensorType([None, 64]))],
        options={id(model): {"zipmap": False}},
        target_opset=OPSETS,
    )
    names = [o.name for o in onx.graph.output]
    assert names == ["label", "probabilities"], names
    # skl2onnx names the graph with a random UUID; a fixed name keeps the file's bytes reproducible.
    onx.graph.name = "digits"
    onx.graph.doc_string = "stackwise ml scenario: digits, GradientBoostingClassifier"
    onnx.checker.check_model(onx)
    model_bytes = onx.SerializeToString()
    (HERE / "digits.onnx").write_bytes(model_bytes)

    # compress=3: a third of the raw pickle's size; joblib's output is as reproducible as the model.
    joblib.dump(model, HERE / "digits.joblib", compress=3)
    model = joblib.load(HERE / "digits.joblib")

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        model_bytes, options, providers=["CPUExecutionProvider"]
    )
    labels, probs = session.run(None, {"input": x_test})

    accuracy_sklearn = float(model.score(x_test, y_test))
    accuracy_onnx = float(np.mean(labels == y_test))
    assert np.array_equal(labels, model.predict(x_test)), "onnxruntime and scikit-learn disagree on a class"

    top2 = np.sort(probs, axis=1)[:, -2:]
    keep = np.flatnonzero(top2[:, 1] - top2[:, 0] >= MARGIN)[:REFERENCE_ROWS]
    assert len(keep) == REFERENCE_ROWS, len(keep)
    skipped = int(keep[-1]) + 1 - REFERENCE_ROWS

    rows = x_test[keep]
    ref_labels, ref_probs = session.run(None, {"input": rows})
    assert np.array_equal(ref_labels, np.argmax(ref_probs, axis=1))
    sk_probs = model.predict_proba(rows)
    sk_diff = float(np.max(np.abs(sk_probs - ref_probs.astype(np.float64))))
    assert sk_diff <= TOLERANCE, sk_diff
    assert np.array_equal(model.predict(rows), ref_labels)

    reference = {
        "model": "digits.onnx",
        "features": 64,
        "classes": list(range(10)),
        "tolerance": TOLERANCE,
        "margin": MARGIN,
        "rows": [[int(v) for v in row] for row in rows],
        "labels": [int(v) for v in ref_labels],
        "probabilities": [[f32(p) for p in row] for row in ref_probs],
    }
    with open(HERE / "digits-reference.json", "w") as f:
        json.dump(reference, f, separators=(",", ":"))
        f.write("\n")

    # squeezenet.py keeps its own entry in the same file.
    versions_path = HERE / "versions.json"
    kept = json.loads(versions_path.read_text()) if versions_path.exists() else {}
    versions = {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
        "opsets": OPSETS,
        "model": {
            "file": "digits.onnx",
            "bytes": len(model_bytes),
            "sha256": hashlib.sha256(model_bytes).hexdigest(),
            "estimator": "GradientBoostingClassifier(n_estimators=50, max_depth=3, learning_rate=0.2, random_state=0)",
            "train_rows": len(x_train),
            "test_rows": len(x_test),
            "joblib_file": "digits.joblib",
            "joblib_bytes": (HERE / "digits.joblib").stat().st_size,
            "accuracy_held_out": accuracy_onnx,
            "accuracy_held_out_sklearn": accuracy_sklearn,
        },
        "reference": {
            "file": "digits-reference.json",
            "rows": REFERENCE_ROWS,
            "held_out_rows_skipped_for_margin": skipped,
            "tolerance": TOLERANCE,
            "sklearn_vs_onnxruntime_max_abs_diff": sk_diff,
        },
    }
    if "squeezenet" in kept:
        versions["squeezenet"] = kept["squeezenet"]
    with open(versions_path, "w") as f:
        json.dump(versions, f, indent=2)
        f.write("\n")

    print(
        f"digits.onnx: {len(model_bytes)} bytes, held-out accuracy {accuracy_onnx:.4f} "
        f"({len(x_test)} rows); reference: {REFERENCE_ROWS} rows ({skipped} skipped for margin), "
        f"scikit-learn vs onnxruntime max |diff| {sk_diff:.3g}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
