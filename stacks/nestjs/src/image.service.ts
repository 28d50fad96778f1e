// docs/spec.md's POST /predict/image: one raw float32 image [1, 3, 224, 224] in, the five most
// probable of the synthetic SqueezeNet's 1000 classes out, run by onnxruntime-node with the
// same threads as the digits model.

import { endianness } from 'node:os';
import { join } from 'node:path';
import { BadRequestException, Injectable, type OnModuleInit } from '@nestjs/common';
import ort from 'onnxruntime-node';

const SHAPE = [1, 3, 224, 224];
const BYTES = 4 * 3 * 224 * 224;
const TOP = 5;

export interface Class {
  label: number;
  probability: number;
}

/** The five most probable classes, most probable first (a tie: the lower class first). */
function top(probabilities: Float32Array): Class[] {
  const best: number[] = [];
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

/** The body's floats, in place when the Buffer is 4-byte aligned, else copied. */
function floats(body: Buffer): Float32Array {
  if (body.byteOffset % 4 === 0) return new Float32Array(body.buffer, body.byteOffset, BYTES / 4);
  const copy = new Float32Array(BYTES / 4);
  new Uint8Array(copy.buffer).set(body);
  return copy;
}

/** The synthetic SqueezeNet, loaded once per worker process before it serves. */
@Injectable()
export class ImageService implements OnModuleInit {
  private session: ort.InferenceSession;

  async onModuleInit(): Promise<void> {
    const dir = process.env.MODELS_DIR;
    if (!dir) throw new Error('MODELS_DIR is not set');
    // A Float32Array reads the machine's byte order; the body is little-endian.
    if (endianness() !== 'LE') throw new Error('POST /predict/image needs a little-endian CPU');
    // One intra-op and one inter-op thread: the stack runs a worker per CPU.
    this.session = await ort.InferenceSession.create(join(dir, 'squeezenet.onnx'), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
  }

  /** The answer for a body of `contentType`: a Buffer from the raw parser (main.ts). */
  async classify(contentType: string | undefined, body: unknown): Promise<{ top5: Class[] }> {
    const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (media !== 'application/octet-stream') {
      throw new BadRequestException('the body must be application/octet-stream');
    }
    const length = Buffer.isBuffer(body) ? body.length : 0;
    if (!Buffer.isBuffer(body) || length !== BYTES) {
      throw new BadRequestException(`the body is ${length} bytes, not ${BYTES}`);
    }
    const { softmaxout_1: probabilities } = await this.session.run({
      data_0: new ort.Tensor('float32', floats(body), SHAPE),
    });
    return { top5: top(probabilities.data as Float32Array) };
  }
}
