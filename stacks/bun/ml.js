// docs/spec.md's POST /predict: rows of 8x8 digit pixels in, each row's label and ten class
// probabilities out, from digits.onnx run by onnxruntime-node (an N-API module, which Bun loads).

import ort from "onnxruntime-node";

const FEATURES = 64;
const MAX_ROWS = 256;

/** A body the spec refuses with a 400; its message says why. */
export class BadRows extends Error {}

/**
 * Loads $MODELS_DIR/digits.onnx once (per worker) and returns the predict function: a JSON
 * body's text in, the answer out. One intra-op and one inter-op thread: a worker per CPU.
 */
export async function loadPredictor(modelsDir = process.env.MODELS_DIR) {
  if (!modelsDir) throw new Error("MODELS_DIR is not set");
  const session = await ort.InferenceSession.create(`${modelsDir}/digits.onnx`, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });

  return async (text) => {
    const rows = parseRows(text);
    const input = new Float32Array(rows.length * FEATURES);
    rows.forEach((row, i) => input.set(row, i * FEATURES));
    const { label, probabilities } = await session.run({
      input: new ort.Tensor("float32", input, [rows.length, FEATURES]),
    });
    const predictions = rows.map((_, i) => ({
      label: Number(label.data[i]),
      probabilities: Array.from(probabilities.data.subarray(i * 10, i * 10 + 10)),
    }));
    return { predictions };
  };
}

/** The body's rows: 1 to 256 arrays of exactly 64 numbers. */
function parseRows(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadRows(`the body is not JSON: ${err.message}`);
  }
  const rows = body?.rows;
  if (typeof body !== "object" || Array.isArray(body) || !Array.isArray(rows)) {
    throw new BadRows('the body must be an object with an array "rows"');
  }
  if (rows.length < 1 || rows.length > MAX_ROWS) {
    throw new BadRows(`"rows" must hold 1 to ${MAX_ROWS} rows, not ${rows.length}`);
  }
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== FEATURES || !row.every((x) => typeof x === "number")) {
      throw new BadRows(`row ${i} must be an array of ${FEATURES} numbers`);
    }
  });
  return rows;
}
