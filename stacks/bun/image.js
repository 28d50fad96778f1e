// docs/spec.md's POST /predict/image: one raw float32 image [1, 3, 224, 224] in, the five most
// probable of the synthetic SqueezeNet's 1000 classes out, run by onnxruntime-node (an N-API
// module, which Bun loads) with the same threads as the digits model.

import os from "node:os";
import ort from "onnxruntime-node";

const SHAPE = [1, 3, 224, 224];
const BYTES = 4 * 3 * 224 * 224;
const TOP = 5;

/** A malformed body: answered 400. */
export class BadImage extends Error {
  status = 400;
}

/**
 * Loads $MODELS_DIR/squeezenet.onnx once (per worker) and returns the classify function: the
 * request's Content-Type and body (a Buffer) in, the answer out. One intra-op and one inter-op
 * thread: a worker per CPU.
 */
export async function loadClassifier(modelsDir = process.env.MODELS_DIR) {
  if (!modelsDir) throw new Error("MODELS_DIR is not set");
  // A Float32Array reads the machine's byte order; the body is little-endian.
  if (os.endianness() !== "LE") throw new Error("POST /predict/image needs a little-endian CPU");
  const session = await ort.InferenceSession.create(`${modelsDir}/squeezenet.onnx`, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  return async (contentType, body) => {
    const media = String(contentType ?? "").split(";")[0].trim().toLowerCase();
    if (media !== "application/octet-stream") {
      throw new BadImage("the body must be application/octet-stream");
    }
    const length = Buffer.isBuffer(body) ? body.length : 0;
    if (length !== BYTES) throw new BadImage(`the body is ${length} bytes, not ${BYTES}`);
    const { softmaxout_1: probabilities } = await session.run({
      data_0: new ort.Tensor("float32", floats(body), SHAPE),
    });
    return { top5: top(probabilities.data) };
  };
}

/** The body's floats, in place when the Buffer is 4-byte aligned, else copied. */
function floats(body) {
  if (body.byteOffset % 4 === 0) return new Float32Array(body.buffer, body.byteOffset, BYTES / 4);
  const copy = new Float32Array(BYTES / 4);
  new Uint8Array(copy.buffer).set(body);
  return copy;
}

/** The five most probable classes, most probable first (a tie: the lower class first). */
function top(probabilities) {
  const best = [];
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i];
    if (best.length === TOP && p <= probabilities[best[TOP - 1]]) continue;
    let j = Math.min(best.length, TOP - 1);
    while (j > 0 && probabilities[best[j - 1]] < p) {
      best[j] = best[j - 1];
      j--;
    }
    best[j] = i;
  }
  return best.map((i) => ({ label: i, probability: probabilities[i] }));
}
