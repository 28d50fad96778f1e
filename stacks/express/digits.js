'use strict';

// docs/spec.md's POST /predict: rows of 8x8 digit pixels in, each row's label and ten class
// probabilities out, from $MODELS_DIR/digits.onnx run by onnxruntime-node.

const path = require('node:path');
const ort = require('onnxruntime-node');

const FEATURES = 64;
const CLASSES = 10;
const MAX_ROWS = 256;

let session = null;

/** Creates this worker's session, once, before it serves: one intra-op and one inter-op thread. */
async function load(modelsDir = process.env.MODELS_DIR) {
  if (!modelsDir) throw new Error('MODELS_DIR is not set');
  session = await ort.InferenceSession.create(path.join(modelsDir, 'digits.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
}

/** A malformed body: answered 400 by the app's error handler. */
class BadRows extends Error {
  status = 400;
}

/** The rows of a parsed JSON body: 1 to 256 arrays of exactly 64 numbers, else a BadRows. */
function rowsOf(body) {
  const rows = body?.rows;
  if (typeof body !== 'object' || Array.isArray(body) || !Array.isArray(rows)) {
    throw new BadRows('the body must be a JSON object with an array "rows"');
  }
  if (rows.length < 1 || rows.length > MAX_ROWS) {
    throw new BadRows(`"rows" must hold 1 to ${MAX_ROWS} rows, not ${rows.length}`);
  }
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== FEATURES || !row.every((x) => typeof x === 'number')) {
      throw new BadRows(`row ${i} must be an array of ${FEATURES} numbers`);
    }
  });
  return rows;
}

/** Each row's predicted label and class probabilities, in the rows' order. */
async function predict(body) {
  const rows = rowsOf(body);
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
}

module.exports = { load, predict, BadRows };
