// Checkpoints: a directory per checkpoint, written as a unit. Files go into a temporary sibling
// directory (each written atomically and fsynced); then `last` is renamed to `prev` and the new
// directory to `last`. A crash at any instant leaves `last` or `prev` complete, and loading
// validates every file, so a truncated or corrupt checkpoint is refused with the file named.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor } from '../tensor';
import { writeFileAtomic, fsyncDir } from '../util/atomic';
import { saveSafetensors, loadSafetensors } from '../interop/weights';

export const CHECKPOINT_FORMAT = 1;

export interface CheckpointState {
  format: number;
  step: number;
  epoch: number;
  /** the position within the epoch, as the loader's state */
  loader: unknown;
  rng: number[];
  configHash: string;
  optimizer: unknown;
  ema: { updates: number; decay: number } | null;
  bestTop1: number;
  skippedSteps: number;
  wallTimeSec: number;
  [key: string]: unknown;
}

export interface CheckpointData {
  weights: Map<string, Tensor>;
  /** optimizer slots keyed `<param name>.<slot>` and EMA weights keyed `ema.<name>` */
  extra: Map<string, Tensor>;
  state: CheckpointState;
}

// A test hook: sleep between files, or kill the process in the middle of the Nth checkpoint.
function testHook(stage: string, n: number): void {
  const slow = Number(process.env.CIVET_TEST_SLOW_CHECKPOINT ?? 0);
  if (slow > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, slow);
  const kill = process.env.CIVET_TEST_KILL_IN_CHECKPOINT;
  if (kill && Number(kill) === n && stage === 'mid') process.kill(process.pid, 'SIGKILL');
}
let written = 0;

export function writeCheckpoint(runDir: string, name: 'last' | 'best', data: CheckpointData): string {
  const root = path.join(runDir, 'checkpoints');
  fs.mkdirSync(root, { recursive: true });
  const n = ++written;
  const tmp = path.join(root, `.tmp-${name}-${process.pid}-${n}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  saveSafetensors(path.join(tmp, 'model.safetensors'), data.weights, { format: 'civet-checkpoint', step: String(data.state.step) });
  testHook('mid', n);
  if (data.extra.size) saveSafetensors(path.join(tmp, 'extra.safetensors'), data.extra);
  testHook('late', n);
  writeFileAtomic(path.join(tmp, 'state.json'), JSON.stringify(data.state, null, 1));
  fsyncDir(tmp);
  const dest = path.join(root, name);
  const prev = path.join(root, name === 'last' ? 'prev' : 'best.prev');
  if (fs.existsSync(dest)) {
    fs.rmSync(prev, { recursive: true, force: true });
    fs.renameSync(dest, prev);
  }
  fs.renameSync(tmp, dest);
  fsyncDir(root);
  if (name === 'best') fs.rmSync(prev, { recursive: true, force: true });
  return dest;
}

/** Loads and validates one checkpoint directory; throws an Error naming the bad file.
 *  weightsOnly: skip the optimizer/EMA file (the `best` checkpoint is written without it). */
export function readCheckpoint(dir: string, o: { weightsOnly?: boolean } = {}): CheckpointData {
  const stateFile = path.join(dir, 'state.json');
  let state: CheckpointState;
  try {
    state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  } catch (e: any) {
    throw new Error(`${stateFile}: unreadable checkpoint state (${e.code ?? e.message})`);
  }
  for (const k of ['format', 'step', 'epoch', 'rng', 'configHash'] as const) {
    if (state?.[k] === undefined) throw new Error(`${stateFile}: checkpoint state lacks '${k}'`);
  }
  if (state.format !== CHECKPOINT_FORMAT) throw new Error(`${stateFile}: checkpoint format ${state.format}, this civet reads ${CHECKPOINT_FORMAT}`);
  const weights = loadSafetensors(path.join(dir, 'model.safetensors')).tensors;
  const extraFile = path.join(dir, 'extra.safetensors');
  let extra = new Map<string, Tensor>();
  if (o.weightsOnly) return { weights, extra, state };
  try {
    const needsExtra = Object.keys((state.optimizer as any)?.steps ?? {}).length > 0;
    if (needsExtra && !fs.existsSync(extraFile)) throw new Error(`${extraFile}: missing (the checkpoint state lists optimizer slots)`);
    if (fs.existsSync(extraFile)) extra = loadSafetensors(extraFile).tensors;
  } catch (e) {
    for (const t of weights.values()) t.dispose();
    throw e;
  }
  return { weights, extra, state };
}

/** The newest checkpoint that loads: `last`, else `prev`. Refusals are reported through warn(). */
export function loadLatestCheckpoint(runDir: string, warn: (msg: string) => void = () => {}): { dir: string; data: CheckpointData } | null {
  for (const name of ['last', 'prev']) {
    const dir = path.join(runDir, 'checkpoints', name);
    if (!fs.existsSync(dir)) continue;
    try {
      return { dir, data: readCheckpoint(dir) };
    } catch (e: any) {
      warn(`refusing checkpoint ${dir}: ${e.message}`);
    }
  }
  return null;
}

export function disposeCheckpoint(d: CheckpointData): void {
  for (const t of d.weights.values()) t.dispose();
  for (const t of d.extra.values()) t.dispose();
}

/** Removes temporary directories left by a checkpoint write that was interrupted. */
export function cleanTemporaries(runDir: string): void {
  const root = path.join(runDir, 'checkpoints');
  if (!fs.existsSync(root)) return;
  for (const f of fs.readdirSync(root)) if (f.startsWith('.tmp-')) fs.rmSync(path.join(root, f), { recursive: true, force: true });
}
