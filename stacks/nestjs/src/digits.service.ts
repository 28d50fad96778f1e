// docs/spec.md's POST /predict: rows of 8x8 digit pixels in, each row's label and ten class
// probabilities out, from digits.onnx run by onnxruntime-node.

import { join } from 'node:path';
import {
  BadRequestException,
  Injectable,
  type OnModuleInit,
  type PipeTransform,
} from '@nestjs/common';
import ort from 'onnxruntime-node';

const FEATURES = 64;
const MAX_ROWS = 256;

export interface Prediction {
  label: number;
  probabilities: number[];
}

/** A JSON body's `rows`: 1 to 256 arrays of exactly 64 numbers, or a BadRequestException. */
export class RowsPipe implements PipeTransform<unknown, number[][]> {
  transform(body: unknown): number[][] {
    const rows = (body as { rows?: unknown } | null)?.rows;
    if (typeof body !== 'object' || Array.isArray(body) || !Array.isArray(rows)) {
      throw new BadRequestException('the body must be an object with an array "rows"');
    }
    if (rows.length < 1 || rows.length > MAX_ROWS) {
      throw new BadRequestException(`"rows" must hold 1 to ${MAX_ROWS} rows, not ${rows.length}`);
    }
    rows.forEach((row: unknown, i) => {
      if (!Array.isArray(row) || row.length !== FEATURES || !row.every((x) => typeof x === 'number')) {
        throw new BadRequestException(`row ${i} must be an array of ${FEATURES} numbers`);
      }
    });
    return rows as number[][];
  }
}

/** The digits model, loaded once per worker process before it serves. */
@Injectable()
export class DigitsService implements OnModuleInit {
  private session: ort.InferenceSession;

  async onModuleInit(): Promise<void> {
    const dir = process.env.MODELS_DIR;
    if (!dir) throw new Error('MODELS_DIR is not set');
    // One intra-op and one inter-op thread: the stack runs a worker per CPU.
    this.session = await ort.InferenceSession.create(join(dir, 'digits.onnx'), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
  }

  async predict(rows: number[][]): Promise<{ predictions: Prediction[] }> {
    const input = new Float32Array(rows.length * FEATURES);
    rows.forEach((row, i) => input.set(row, i * FEATURES));
    const { label, probabilities } = await this.session.run({
      input: new ort.Tensor('float32', input, [rows.length, FEATURES]),
    });
    const labels = label.data as BigInt64Array;
    const probs = probabilities.data as Float32Array;
    const predictions = rows.map((_, i) => ({
      label: Number(labels[i]),
      probabilities: Array.from(probs.subarray(i * 10, i * 10 + 10)),
    }));
    return { predictions };
  }
}
