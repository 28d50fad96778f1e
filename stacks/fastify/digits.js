'use strict';

// docs/spec.md's POST /predict: rows of 8x8 digit pixels in, each row's label and ten class
// probabilities out, from $MODELS_DIR/digits.onnx run by onnxruntime-node.

const path = require('node:path');
const ort = require('onnxruntime-node');

const FEATURES = 64;
const CLASSES = 10;

/**
 * Creates the session, once per worker, and returns the predict function: rows (checked by
 * the route's schema) in, each row's label and class probabilities out, in the rows' order.
 * One intra-op and one inter-op thread: a worker per CPU.
 */
async function load(modelsDir = process.env.MODELS_DIR) {
  if (!modelsDir) throw new Error('MODELS_DIR is not set');
  const session = await ort.InferenceSession.create(path.join(modelsDir, 'digits.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });

  return async (rows) => {
    const input = new Float32Array(rows.length * FEATURES);
    rows.forEach((row, i) => input.set(row, i * FEATURES));
    const { label, probabilities } = await session.run({
      input: new ort.Tensor('float32', input, [rows.length, FEATURES]),
    });
    const predictions = rows.map((_, i) => ({
      label: Number(label.data[i]),
      probabilities: Array.from(probabilities.data.subarray(i * CLASSES, (i + 1) * CLASSES)),
    }));
    return { predictions };
  };
}

module.exports = { load, FEATURES, CLASSES };
