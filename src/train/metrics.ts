// Evaluation metrics on plain arrays (no tensor dependency), plus the metrics.jsonl run log.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface EvalResult {
  n: number;
  /** top-k accuracy for each requested k, keyed by k. */
  topk: Record<number, number>;
  /** Mean cross-entropy (natural log). */
  loss: number;
  /** Expected calibration error, equal-width bins over max softmax probability (Guo et al. 2017). */
  ece: number;
}

/**
 * Streaming evaluator: feed logits batch by batch, read metrics at the end. Keeps only running sums
 * and per-bin counts, so a 50k x 1000 validation set never has to be held in memory at once.
 */
export class EvalAccumulator {
  private n = 0;
  private nll = 0;
  private readonly hits: number[];
  private readonly binCount: Float64Array;
  private readonly binConf: Float64Array;
  private readonly binCorrect: Float64Array;

  constructor(
    readonly numClasses: number,
    readonly ks: number[] = [1, 5],
    readonly bins = 15,
  ) {
    this.hits = ks.map(() => 0);
    this.binCount = new Float64Array(bins);
    this.binConf = new Float64Array(bins);
    this.binCorrect = new Float64Array(bins);
  }

  /** logits: row-major [N, C]; labels: N class indices. */
  add(logits: ArrayLike<number>, labels: ArrayLike<number>): void {
    const C = this.numClasses;
    const N = labels.length;
    if (logits.length !== N * C) throw new Error(`logits length ${logits.length} != ${N} x ${C}`);
    for (let i = 0; i < N; i++) {
      const y = labels[i];
      if (!Number.isInteger(y) || y < 0 || y >= C) throw new Error(`label ${y} at row ${i} out of range [0, ${C})`);
      const o = i * C;
      // argmax with first-index tie-breaking, as torch.argmax does.
      let best = 0;
      let max = -Infinity;
      for (let c = 0; c < C; c++) if (logits[o + c] > max) ((max = logits[o + c]), (best = c));
      // Rank of the true label under the same tie rule: classes strictly above it, plus equal
      // classes with a lower index. A NaN logit row ranks the label last (counts as wrong).
      const ly = logits[o + y];
      let rank = Number.isNaN(ly) ? C : 0;
      for (let c = 0; c < C && rank < C; c++) {
        const v = logits[o + c];
        if (v > ly || (v === ly && c < y)) rank++;
      }
      this.ks.forEach((k, j) => {
        if (rank < k) this.hits[j]++;
      });
      // log-sum-exp in float64 with the max subtracted for stability.
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(logits[o + c] - max);
      const logZ = max + Math.log(sum);
      this.nll += logZ - ly;
      // Max softmax probability = exp(max - logZ) = 1 / sum.
      const conf = 1 / sum;
      // Bins are (m-1)/M < p <= m/M, so p = 1 lands in the last bin and p never hits bin -1.
      const b = Math.min(this.bins - 1, Math.max(0, Math.ceil(conf * this.bins) - 1));
      this.binCount[b]++;
      this.binConf[b] += conf;
      if (best === y) this.binCorrect[b]++;
      this.n++;
    }
  }

  result(): EvalResult {
    const n = this.n;
    const topk: Record<number, number> = {};
    this.ks.forEach((k, j) => (topk[k] = n ? this.hits[j] / n : NaN));
    let ece = 0;
    for (let b = 0; b < this.bins; b++) {
      const c = this.binCount[b];
      if (c) ece += (c / n) * Math.abs(this.binCorrect[b] / c - this.binConf[b] / c);
    }
    return { n, topk, loss: n ? this.nll / n : NaN, ece: n ? ece : NaN };
  }
}

function evaluate(logits: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number, ks: number[], bins = 15): EvalResult {
  const acc = new EvalAccumulator(numClasses, ks, bins);
  acc.add(logits, labels);
  return acc.result();
}

export function topKAccuracy(logits: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number, k = 1): number {
  return evaluate(logits, labels, numClasses, [k]).topk[k];
}

export function crossEntropy(logits: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number {
  return evaluate(logits, labels, numClasses, []).loss;
}

export function expectedCalibrationError(logits: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number, bins = 15): number {
  return evaluate(logits, labels, numClasses, [], bins).ece;
}

// ---- metrics.jsonl ----

export interface TrainRecord {
  kind: 'train';
  step: number;
  epoch: number;
  loss: number;
  terms?: Record<string, number>;
  lr?: number;
  imgPerSec?: number;
  [extra: string]: unknown;
}

export interface EvalRecord {
  kind: 'eval';
  epoch: number;
  step: number;
  top1: number;
  top5?: number;
  loss?: number;
  ece?: number;
  [extra: string]: unknown;
}

export type MetricsRecord = TrainRecord | EvalRecord | { kind: string; [extra: string]: unknown };

/**
 * Append-only JSON-lines log. Each record is one writeSync, so a killed process loses nothing it
 * already logged; a power cut can at worst leave a partial last line, which readMetrics drops.
 */
export class MetricsLog {
  readonly file: string;
  private fd: number | undefined;

  /** `target` is a run directory (the file is `<dir>/metrics.jsonl`) or a path ending in .jsonl. */
  constructor(target: string) {
    this.file = target.endsWith('.jsonl') ? target : path.join(target, 'metrics.jsonl');
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = fs.openSync(this.file, 'a+');
    this.dropPartialLine();
  }

  append(record: MetricsRecord): void {
    if (this.fd === undefined) throw new Error(`MetricsLog ${this.file} is closed`);
    // JSON has no NaN/Infinity (stringify would write null); keep them readable as strings.
    const line = Buffer.from(JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n');
    let off = 0;
    while (off < line.length) off += fs.writeSync(this.fd, line, off, line.length - off);
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  // When resuming after a crash, appending after a partial line would glue two records together
  // and corrupt a line in the middle of the file; cut the file back to its last complete line.
  private dropPartialLine(): void {
    const size = fs.fstatSync(this.fd!).size;
    if (size === 0) return;
    const chunk = Buffer.alloc(Math.min(size, 1 << 16));
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const n = fs.readSync(this.fd!, chunk, 0, end - start, start);
      const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (nl >= 0) return this.endTail(start + nl + 1, size);
      end = start;
    }
    this.endTail(0, size);
  }

  private endTail(from: number, size: number): void {
    if (from >= size) return;
    const tail = Buffer.alloc(size - from);
    fs.readSync(this.fd!, tail, 0, tail.length, from);
    // A complete record that only lost its newline is kept; anything else is a torn write.
    if (parseRecord(tail.toString('utf8').trim())) fs.writeSync(this.fd!, '\n');
    else fs.ftruncateSync(this.fd!, from);
  }
}

export interface MetricsRead {
  records: MetricsRecord[];
  /** True when an incomplete last line (killed run) was dropped. */
  truncated: boolean;
  /** With `skipBad`: the 1-based numbers of the lines that were not records and were skipped. */
  skipped: number[];
}

/**
 * Read a metrics.jsonl; a bad last line is dropped, a bad line anywhere else is an error, or with
 * `skipBad` (reports: one damaged line should not blank every curve) skipped and its number listed.
 */
export function readMetrics(file: string, o: { skipBad?: boolean } = {}): MetricsRead {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const records: MetricsRecord[] = [];
  const skipped: number[] = [];
  let truncated = false;
  let lastLine = lines.length - 1;
  while (lastLine >= 0 && !lines[lastLine].trim()) lastLine--;
  for (let i = 0; i <= lastLine; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const rec = parseRecord(line);
    if (!rec) {
      if (i === lastLine) {
        truncated = true;
        break;
      }
      if (o.skipBad) { skipped.push(i + 1); continue; }
      throw new Error(`${file}:${i + 1}: not a JSON object: ${line.slice(0, 80)}`);
    }
    records.push(rec);
  }
  return { records, truncated, skipped };
}

function parseRecord(line: string): MetricsRecord | undefined {
  try {
    const rec: unknown = JSON.parse(line, (_k, v) => (v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? Number(v) : v));
    return rec !== null && typeof rec === 'object' && !Array.isArray(rec) ? (rec as MetricsRecord) : undefined;
  } catch {
    return undefined;
  }
}
