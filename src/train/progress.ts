// Training progress reporter. On a terminal it redraws one status line in place; in a log file
// (CI, nohup, `tee`) carriage returns would make a mess, so it prints plain periodic lines instead.
import { fmtDuration } from '../util/format';

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  totalEpochs: number;
  stepsPerEpoch: number;
  /** Defaults to process.stderr, so stdout stays clean for machine-readable output. */
  stream?: ProgressStream;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
  /** Force TTY / plain mode; defaults to stream.isTTY. */
  tty?: boolean;
  /** Plain mode: print every N steps (0 = only by time). Default 0. */
  everySteps?: number;
  /** Plain mode: print when this much time passed since the last line. Default 10 000 ms. */
  everyMs?: number;
  /** TTY mode: minimum interval between redraws. Default 100 ms (~10/s). */
  redrawMs?: number;
}

export interface ProgressUpdate {
  /** 0-based epoch. */
  epoch: number;
  /** Steps completed in this epoch, 1..stepsPerEpoch. */
  step: number;
  loss?: number;
  /** Images processed by this step (the batch size), for the img/s estimate. */
  images?: number;
}

// Per-step time is smoothed so the ETA tracks the current speed (warm-up, eval pauses) without
// jumping around on every step.
const EMA = 0.1;

export class Progress {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly tty: boolean;
  private readonly o: Required<Pick<ProgressOptions, 'everySteps' | 'everyMs' | 'redrawMs'>>;
  private readonly start: number;
  private lastTick: number;
  private lastPrint = -Infinity;
  private secPerStep: number | undefined;
  private imgPerStep: number | undefined;
  private last: ProgressUpdate | undefined;
  private barShown = false;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? Date.now;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.o = { everySteps: opts.everySteps ?? 0, everyMs: opts.everyMs ?? 10_000, redrawMs: opts.redrawMs ?? 100 };
    this.start = this.lastTick = this.now();
  }

  update(u: ProgressUpdate): void {
    const t = this.now();
    // Steps since the last update (usually 1; more if the caller reports sparsely).
    const prev = this.last ? this.globalStep(this.last) : 0;
    const steps = Math.max(1, this.globalStep(u) - prev);
    const dt = (t - this.lastTick) / 1000 / steps;
    this.lastTick = t;
    this.secPerStep = this.secPerStep === undefined ? dt : this.secPerStep + EMA * (dt - this.secPerStep);
    if (u.images !== undefined) {
      this.imgPerStep = this.imgPerStep === undefined ? u.images : this.imgPerStep + EMA * (u.images - this.imgPerStep);
    }
    this.last = u;

    const epochEnd = u.step >= this.opts.stepsPerEpoch;
    if (this.tty) {
      if (t - this.lastPrint >= this.o.redrawMs || epochEnd) this.draw(t);
    } else {
      const byStep = this.o.everySteps > 0 && u.step % this.o.everySteps === 0;
      if (byStep || epochEnd || t - this.lastPrint >= this.o.everyMs) {
        this.stream.write(this.plainLine(t) + '\n');
        this.lastPrint = t;
      }
    }
  }

  /** Print a message without corrupting the bar (the bar is redrawn underneath it). */
  log(msg: string): void {
    if (this.tty && this.barShown) {
      this.stream.write('\r\x1b[K' + msg + '\n');
      this.draw(this.now());
    } else {
      this.stream.write(msg + '\n');
    }
  }

  /** Final redraw and newline, so whatever follows starts on a fresh line. */
  finish(): void {
    if (this.tty && this.last) {
      this.draw(this.now());
      this.stream.write('\n');
      this.barShown = false;
    }
  }

  private draw(t: number): void {
    const u = this.last;
    if (!u) return;
    // a terminal that reports 0 (or no) columns has an unknown width, not a 0-wide one
    const c = this.stream.columns;
    const cols = typeof c === 'number' && c > 0 ? Math.max(40, c) : 100;
    const left = `epoch ${u.epoch + 1}/${this.opts.totalEpochs} step ${u.step}/${this.opts.stepsPerEpoch} `;
    const right = ' ' + this.stats().join(' ');
    const barWidth = Math.max(10, Math.min(40, cols - left.length - right.length - 3));
    const frac = Math.min(1, u.step / this.opts.stepsPerEpoch);
    const filled = Math.round(frac * barWidth);
    const bar = '[' + '#'.repeat(filled) + '.'.repeat(barWidth - filled) + ']';
    // Truncate to the terminal width: a wrapped line cannot be redrawn with \r.
    this.stream.write('\r' + (left + bar + right).slice(0, cols - 1) + '\x1b[K');
    this.barShown = true;
    this.lastPrint = t;
  }

  private plainLine(t: number): string {
    const u = this.last!;
    const pct = Math.floor((100 * u.step) / this.opts.stepsPerEpoch);
    return `epoch ${u.epoch + 1}/${this.opts.totalEpochs} step ${u.step}/${this.opts.stepsPerEpoch} (${pct}%) ${this.stats().join(' ')} elapsed ${fmtDuration((t - this.start) / 1000)}`;
  }

  private stats(): string[] {
    const u = this.last!;
    const out: string[] = [];
    if (u.loss !== undefined) out.push(`loss ${fmtLoss(u.loss)}`);
    if (this.imgPerStep !== undefined && this.secPerStep) out.push(`${Math.round(this.imgPerStep / this.secPerStep)} img/s`);
    if (this.secPerStep !== undefined) {
      const remaining = this.opts.totalEpochs * this.opts.stepsPerEpoch - this.globalStep(u);
      out.push(`ETA ${fmtDuration(Math.max(0, remaining) * this.secPerStep)}`);
    }
    return out;
  }

  private globalStep(u: ProgressUpdate): number {
    return u.epoch * this.opts.stepsPerEpoch + u.step;
  }
}

function fmtLoss(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1000 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : x.toFixed(4);
}

