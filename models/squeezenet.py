#!/usr/bin/env python3
"""Makes the `ml-image` scenario's model: SqueezeNet with fixed, seeded synthetic weights.

The network is the `light_squeezenet.onnx` that the `onnx` package ships among its backend test
data (`onnx/backend/test/data/light/`): SqueezeNet 1.0's graph (26 convolutions, 1000 classes,
input float32 [1, 3, 224, 224]). That file is 15 KB because its weights are not in it: 39
`ConstantOfShape` nodes make them at load time, every one filled with 0.02, so every class gets
0.001 whatever the image. This script keeps the graph's compute nodes and replaces those nodes
and the file's few stored biases with weights drawn from a seeded generator (He-normal, as a
network is initialised before training), stored in the file as float16 and cast to float32 by
the graph (onnxruntime folds the casts when the session is made): the file holds everything,
2.5 MB instead of 4.9 MB, and the arithmetic is float32 as in the original.

**The weights are synthetic: the predictions mean nothing.** The model does SqueezeNet's work
per call, which is what the scenario times, and answers the same for the same input everywhere,
which is what `stackwise verify` checks.

Writes, next to this script (see README.md):

- `squeezenet.onnx`: the model; input `data_0`, float32 [1, 3, 224, 224]; output
  `softmaxout_1`, float32 [1, 1000, 1, 1], the class probabilities;
- `squeezenet-reference.json`: the seeds of the lab's input images, each image's SHA-256, and
  the five most probable classes onnxruntime gives each, which `verify` checks stacks against;
- its entry `squeezenet` in `versions.json` (the rest of that file is train.py's).

Run with the versions pinned in requirements.txt: `python models/squeezenet.py`. Every seed is
fixed; the same versions give the same bytes.
"""
import hashlib
import json
import pathlib
import platform
import sys

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

HERE = pathlib.Path(__file__).resolve().parent
# The file as onnx 1.23.2 ships it; another file under the same name would make another model.
SOURCE = "backend/test/data/light/light_squeezenet.onnx"
SOURCE_SHA256 = "770b0f3c8623e18bf58b53754d710051b4c268248422142980a132bbe6dfe908"
WEIGHT_SEED = 0
# The final convolution's weights are scaled up so that a few classes stand out of the 1000
# (with plain He-normal weights the most probable class gets about 0.01).
CONV10_SCALE = 4.0
SHAPE = (1, 3, 224, 224)
# The lab's input images are made from these seeds (see `image`); the reference keeps the
# first REFERENCE_IMAGES whose five most probable classes each lead the next by MARGIN.
CANDIDATE_SEEDS = range(1, 65)
REFERENCE_IMAGES = 4
TOP = 5
MARGIN = 0.002
# Absolute tolerance for every probability (docs/spec.md, `ml-image`).
TOLERANCE = 1e-4
GOLDEN = 0x9E3779B97F4A7C15


def splitmix64(seed, n):
    """The first `n` outputs of SplitMix64 started at `seed`, as uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def image(seed):
    """The input image of `seed`, float32 [1, 3, 224, 224], as the lab makes it (docs/spec.md).

    SplitMix64 from `seed` gives uniform numbers u = (output >> 40) / 2^24 in [0, 1): the first
    three are each channel's scale s = 2u, the next three its offset o = 2u - 1, then one per
    value in C, H, W order, each value (u·s + o) in float64 rounded once to float32. Noise of
    one range everywhere gives every image the same classes; a range per channel does not.
    """
    n = 6 + SHAPE[1] * SHAPE[2] * SHAPE[3]
    u = (splitmix64(seed, n) >> np.uint64(40)).astype(np.float64) / 2.0**24
    scale = 2.0 * u[0:3]
    offset = 2.0 * u[3:6] - 1.0
    pixels = u[6:].reshape(SHAPE[1:])
    x = pixels * scale[:, None, None] + offset[:, None, None]
    return x.astype(np.float32).reshape(SHAPE)


def f32(x):
    """A float32 as the shortest decimal that reads back as the same float32."""
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


def build(source):
    """SqueezeNet's graph from `source` with seeded weights, as an ONNX model."""
    graph = source.graph
    shapes = {}
    for t in graph.initializer:
        if t.name.endswith("__SHAPE"):
            shapes[t.name[: -len("__SHAPE")]] = tuple(int(d) for d in numpy_helper.to_array(t))
        else:
            shapes[t.name] = tuple(t.dims)
    rng = np.random.default_rng(WEIGHT_SEED)
    initializers, casts = [], []
    convs = [n for n in graph.node if n.op_type == "Conv"]
    for node in convs:
        w, b = node.input[1], node.input[2]
        out_c, in_c, kh, kw = shapes[w]
        weight = rng.normal(0.0, np.sqrt(2.0 / (in_c * kh * kw)), (out_c, in_c, kh, kw))
        if w.startswith("conv10"):
            weight *= CONV10_SCALE
        bias = rng.normal(0.0, 0.01, shapes[b])
        for name, value in ((w, weight), (b, bias)):
            initializers.append(numpy_helper.from_array(value.astype(np.float16), name + "_f16"))
            casts.append(helper.make_node("Cast", [name + "_f16"], [name], to=TensorProto.FLOAT))
    nodes = casts + [n for n in graph.node if n.op_type != "ConstantOfShape"]
    inputs = [i for i in graph.input if i.name == "data_0"]
    out = helper.make_graph(nodes, "squeezenet_synthetic", inputs, list(graph.output), initializers)
    out.doc_string = (
        "stackwise ml-image scenario: SqueezeNet 1.0's graph from onnx's light_squeezenet.onnx "
        f"with synthetic He-normal weights (numpy default_rng({WEIGHT_SEED})); "
        "the predictions mean nothing, the work per call is SqueezeNet's"
    )
    model = helper.make_model(
        out,
        opset_imports=[helper.make_opsetid("", 9)],
        ir_version=7,
        producer_name="stackwise models/squeezenet.py",
    )
    onnx.checker.check_model(model)
    return model, sum(int(np.prod(shapes[n.input[i]])) for n in convs for i in (1, 2))


def session(model_bytes, threads):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def main():
    path = pathlib.Path(onnx.__file__).parent / SOURCE
    source_bytes = path.read_bytes()
    source_sha = hashlib.sha256(source_bytes).hexdigest()
    if source_sha != SOURCE_SHA256:
        sys.exit(f"{path}: SHA-256 {source_sha}, not the file this script was written for")
    model, params = build(onnx.load_from_string(source_bytes))
    model_bytes = model.SerializeToString()
    (HERE / "squeezenet.onnx").write_bytes(model_bytes)

    one = session(model_bytes, 1)
    several = session(model_bytes, 0)
    images = []
    threads_diff = 0.0
    for seed in CANDIDATE_SEEDS:
        x = image(seed)
        probs = one.run(None, {"data_0": x})[0].reshape(-1)
        order = np.argsort(-probs, kind="stable")[: TOP + 1]
        top = probs[order]
        if np.min(top[:-1] - top[1:]) < MARGIN:
            continue
        threads_diff = max(
            threads_diff,
            float(np.max(np.abs(several.run(None, {"data_0": x})[0].reshape(-1) - probs))),
        )
        images.append(
            {
                "seed": seed,
                "sha256": hashlib.sha256(x.tobytes()).hexdigest(),
                "top5": [{"label": int(i), "probability": f32(probs[i])} for i in order[:TOP]],
            }
        )
        if len(images) == REFERENCE_IMAGES:
            break
    assert len(images) == REFERENCE_IMAGES, len(images)
    assert len({i["top5"][0]["label"] for i in images}) > 1, "every image has the same class"
    assert threads_diff <= TOLERANCE / 10, threads_diff

    reference = {
        "model": "squeezenet.onnx",
        "input": "data_0",
        "shape": list(SHAPE),
        "classes": 1000,
        "tolerance": TOLERANCE,
        "margin": MARGIN,
        "images": images,
    }
    with open(HERE / "squeezenet-reference.json", "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")

    versions_path = HERE / "versions.json"
    versions = json.loads(versions_path.read_text())
    versions["squeezenet"] = {
        "python": platform.python_version(),
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
        "source": f"onnx {onnx.__version__}: onnx/{SOURCE}",
        "source_bytes": len(source_bytes),
        "source_sha256": source_sha,
        "opset": 9,
        "file": "squeezenet.onnx",
        "bytes": len(model_bytes),
        "sha256": hashlib.sha256(model_bytes).hexdigest(),
        "parameters": params,
        "weights": f"synthetic: He-normal, numpy default_rng({WEIGHT_SEED}), conv10 x{CONV10_SCALE}, "
        "biases normal(0, 0.01), stored as float16",
        "reference": {
            "file": "squeezenet-reference.json",
            "images": REFERENCE_IMAGES,
            "seeds_skipped_for_margin": images[-1]["seed"] - CANDIDATE_SEEDS[0] + 1 - REFERENCE_IMAGES,
            "tolerance": TOLERANCE,
            "onnxruntime_threads_vs_one_max_abs_diff": threads_diff,
        },
    }
    with open(versions_path, "w") as f:
        json.dump(versions, f, indent=2)
        f.write("\n")

    print(
        f"squeezenet.onnx: {len(model_bytes)} bytes, {params} parameters; reference: "
        f"{REFERENCE_IMAGES} images (seeds {[i['seed'] for i in images]}), several threads "
        f"vs one max |diff| {threads_diff:.3g}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
