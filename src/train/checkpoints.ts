// Checkpoints: a directory per checkpoint, written as a unit. Files go into a temporary sibling
// directory (each written atomically and fsynced); then `last` is renamed to `prev` and the new
// directory to `last`. A crash at any instant leaves `last` or `prev` complete.
//
// A checkpoint proves its own integrity: state.json records the size and SHA-256 of every other
// file and ends with a SHA-256 of its own bytes (the `sha256` value itself zeroed), so any changed
// byte in any file of the checkpoint is caught before a tensor is read. The state is then checked
// against a schema and every floating-point tensor must be finite. Whatever fails, the checkpoint
// is refused with the file (and the field or tensor) named, and the caller falls back to `prev`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { z } from 'zod';
import { Tensor, tidy } from '../tensor';
import { writeFileAtomic, fsyncDir } from '../util/atomic';
import { issueMessage, issuePath } from '../util/issues';
import { saveSafetensors, loadSafetensorsBuffer } from '../interop/weights';

/** 2: state.json carries per-file SHA-256 and its own seal (format 1 had neither). */
export const CHECKPOINT_FORMAT = 2;

const int = z.number({ invalid_type_error: 'expected an integer' }).int('expected an integer');
const nonNegInt = int.nonnegative('expected an integer >= 0');
const nonNegNum = z.number({ invalid_type_error: 'expected a number' }).nonnegative('expected a number >= 0');
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits');
const FileRecord = z.object({ bytes: nonNegInt, sha256: sha256Hex }).strict();

/** What state.json must hold. Loader and optimizer states are checked field by field here; their
 *  meaning (same sampler kind, same dataset length, same parameters) is checked where they are
 *  restored, and a refusal there is damage of this checkpoint too. */
const StateSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  step: nonNegInt,
  epoch: nonNegInt,
  /** the training phase the checkpoint was written in (a method's init phase, or 'main'); absent: 'main' */
  phase: z.string().min(1, 'expected a phase name').optional(),
  loader: z.object({
    sampler: z.object({ kind: z.string(), seed: int, epoch: nonNegInt, position: nonNegInt, length: nonNegInt, rank: nonNegInt, worldSize: int.positive() }).passthrough(),
  }).passthrough(),
  rng: z.array(int.min(0).max(255)).min(1, 'expected the generator state bytes'),
  configHash: z.string().regex(/^[0-9a-f]{16}$/, 'expected a 16-digit hex config hash'),
  optimizer: z.object({
    kind: z.string(), groups: z.array(z.record(z.unknown())), steps: z.record(nonNegInt), stepCount: nonNegInt,
  }).passthrough().nullable(),
  ema: z.object({ updates: nonNegInt, decay: z.number().min(0).max(1) }).nullable(),
  bestTop1: z.number().min(-1).max(1),
  skippedSteps: nonNegInt,
  wallTimeSec: nonNegNum,
  files: z.record(FileRecord).refine((f) => 'model.safetensors' in f, 'expected an entry for model.safetensors'),
}).passthrough();

export interface CheckpointState {
  format: number;
  step: number;
  /** epochs done within the phase */
  epoch: number;
  /** the training phase (a method's init phase, or 'main'); absent in older checkpoints: 'main' */
  phase?: string;
  /** the position within the epoch, as the loader's state */
  loader: unknown;
  rng: number[];
  configHash: string;
  optimizer: { kind: string; groups: any[]; steps: Record<string, number>; stepCount: number } | null;
  ema: { updates: number; decay: number } | null;
  bestTop1: number;
  skippedSteps: number;
  wallTimeSec: number;
  /** size and SHA-256 of each other file, filled in by writeCheckpoint */
  files?: Record<string, { bytes: number; sha256: string }>;
  [key: string]: unknown;
}

export interface CheckpointData {
  weights: Map<string, Tensor>;
  /** optimizer slots keyed `opt.<param name>.<slot>` and EMA weights keyed `ema.<name>` */
  extra: Map<string, Tensor>;
  state: CheckpointState;
}

/** A checkpoint that cannot be used, with the file (and what in it) named in the message. */
export class CheckpointError extends Error {
  constructor(readonly file: string, msg: string) { super(`${file}: ${msg}`); this.name = 'CheckpointError'; }
}

// A test hook: sleep between files, or kill the process in the middle of the Nth checkpoint.
function testHook(stage: string, n: number): void {
  const slow = Number(process.env.CIVET_TEST_SLOW_CHECKPOINT ?? 0);
  if (slow > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, slow);
  const kill = process.env.CIVET_TEST_KILL_IN_CHECKPOINT;
  if (kill && Number(kill) === n && stage === 'mid') process.kill(process.pid, 'SIGKILL');
}
let written = 0;

const sha256 = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex');
const ZEROS = '0'.repeat(64);
const SEAL_TAIL = /,\n "sha256": "([0-9a-f]{64})"\n\}\n$/;

/** state.json's text: the state, then `"sha256"` over the whole text with that value zeroed. */
export function sealState(state: object): string {
  const body = JSON.stringify({ ...state, sha256: undefined }, null, 1).slice(0, -2);
  const text = (h: string) => `${body},\n "sha256": "${h}"\n}\n`;
  return text(sha256(text(ZEROS)));
}

/** The state in a sealed state.json text; throws a CheckpointError when a byte was changed. */
export function unsealState(text: string, file: string): unknown {
  const m = SEAL_TAIL.exec(text);
  if (!m) throw new CheckpointError(file, 'not a sealed checkpoint state (no trailing "sha256" field: damaged, or written by an older civet)');
  const zeroed = text.slice(0, m.index) + `,\n "sha256": "${ZEROS}"\n}\n`;
  if (sha256(zeroed) !== m[1]) throw new CheckpointError(file, 'checksum mismatch (the file was changed or damaged after it was written)');
  let v: any;
  try { v = JSON.parse(text); } catch (e: any) { throw new CheckpointError(file, `not JSON (${e.message})`); }
  delete v.sha256;
  return v;
}

function fileRecord(file: string): { bytes: number; sha256: string } {
  const b = fs.readFileSync(file);
  return { bytes: b.length, sha256: sha256(b) };
}

export function writeCheckpoint(runDir: string, name: 'last' | 'best', data: CheckpointData): string {
  const root = path.join(runDir, 'checkpoints');
  fs.mkdirSync(root, { recursive: true });
  const n = ++written;
  const tmp = path.join(root, `.tmp-${name}-${process.pid}-${n}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  const files: Record<string, { bytes: number; sha256: string }> = {};
  saveSafetensors(path.join(tmp, 'model.safetensors'), data.weights, { format: 'civet-checkpoint', step: String(data.state.step) });
  // the checksum is taken from the file as it lies on disk, so it also covers the write itself
  files['model.safetensors'] = fileRecord(path.join(tmp, 'model.safetensors'));
  testHook('mid', n);
  if (data.extra.size) {
    saveSafetensors(path.join(tmp, 'extra.safetensors'), data.extra);
    files['extra.safetensors'] = fileRecord(path.join(tmp, 'extra.safetensors'));
  }
  testHook('late', n);
  writeFileAtomic(path.join(tmp, 'state.json'), sealState({ ...data.state, format: CHECKPOINT_FORMAT, files }));
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

/** Reads and checks state.json (seal, then schema); throws a CheckpointError naming the field. */
export function readCheckpointState(dir: string): CheckpointState {
  const stateFile = path.join(dir, 'state.json');
  let text: string;
  try { text = fs.readFileSync(stateFile, 'utf8'); } catch (e: any) { throw new CheckpointError(stateFile, `unreadable checkpoint state (${e.code ?? e.message})`); }
  const raw: any = unsealState(text, stateFile);
  if (raw && typeof raw === 'object' && raw.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(stateFile, `checkpoint format ${JSON.stringify(raw.format)}, this civet reads ${CHECKPOINT_FORMAT}`);
  }
  const r = StateSchema.safeParse(raw);
  if (!r.success) throw new CheckpointError(stateFile, r.error.issues.map((i) => `${issuePath(i.path)}: ${issueMessage(i)}`).join('; '));
  return r.data as CheckpointState;
}

/** One file of the checkpoint, checked against its size and SHA-256 in state.json. */
function readVerified(dir: string, name: string, state: CheckpointState): Buffer {
  const file = path.join(dir, name);
  const rec = state.files?.[name];
  if (!rec) throw new CheckpointError(file, 'not listed in state.json');
  let b: Buffer;
  try { b = fs.readFileSync(file); } catch (e: any) { throw new CheckpointError(file, e.code === 'ENOENT' ? 'missing' : `unreadable (${e.code ?? e.message})`); }
  if (b.length !== rec.bytes) throw new CheckpointError(file, `${b.length} bytes, state.json records ${rec.bytes} (truncated or damaged)`);
  if (sha256(b) !== rec.sha256) throw new CheckpointError(file, 'SHA-256 mismatch with state.json (the file was changed or damaged after it was written)');
  return b;
}

/** Tensors of a verified file; a NaN or Inf anywhere is refused with the tensor named. */
function loadTensors(dir: string, name: string, state: CheckpointState): Map<string, Tensor> {
  const file = path.join(dir, name);
  let tensors: Map<string, Tensor>;
  try { tensors = loadSafetensorsBuffer(readVerified(dir, name, state), file).tensors; } catch (e: any) {
    throw e instanceof CheckpointError ? e : new CheckpointError(file, e.message.startsWith(file) ? e.message.slice(file.length + 2) : e.message);
  }
  const bad = [...tensors].find(([, t]) => (t.dtype.startsWith('float') || t.dtype === 'bfloat16') && !tidy(() => Boolean(t.isfinite().all().item())));
  if (bad) {
    for (const t of tensors.values()) t.dispose();
    throw new CheckpointError(file, `tensor '${bad[0]}' holds NaN or Inf`);
  }
  return tensors;
}

/** Loads and verifies one checkpoint directory; throws a CheckpointError naming the bad file.
 *  weightsOnly: skip the optimizer/EMA file (the `best` checkpoint is written without it). */
export function readCheckpoint(dir: string, o: { weightsOnly?: boolean } = {}): CheckpointData {
  const state = readCheckpointState(dir);
  const extraFile = path.join(dir, 'extra.safetensors');
  const listed = 'extra.safetensors' in (state.files ?? {});
  if (!o.weightsOnly) {
    // check everything that needs no tensors before reading any
    const needsExtra = Object.keys(state.optimizer?.steps ?? {}).length > 0 || state.ema !== null;
    if (needsExtra && !listed) throw new CheckpointError(path.join(dir, 'state.json'), 'lists optimizer or EMA state but no extra.safetensors');
    if (!listed && fs.existsSync(extraFile)) throw new CheckpointError(extraFile, 'not listed in state.json');
  }
  const weights = loadTensors(dir, 'model.safetensors', state);
  let extra = new Map<string, Tensor>();
  if (o.weightsOnly || !listed) return { weights, extra, state };
  try {
    extra = loadTensors(dir, 'extra.safetensors', state);
  } catch (e) {
    for (const t of weights.values()) t.dispose();
    throw e;
  }
  return { weights, extra, state };
}

export interface CheckpointChoice {
  /** the checkpoint that loaded, or null */
  chosen: { dir: string; data: CheckpointData } | null;
  /** `last` and `prev` that exist but were refused, with the reason */
  refused: { dir: string; reason: string }[];
}

/** Reads `last`, else `prev`: the first that passes every check. `accept` may refuse a checkpoint
 *  that reads (it throws a CheckpointError); that is damage like any other, and the next one is tried. */
export function chooseCheckpoint(runDir: string, accept: (c: { dir: string; data: CheckpointData }) => void = () => {}): CheckpointChoice {
  const refused: CheckpointChoice['refused'] = [];
  for (const name of ['last', 'prev']) {
    const dir = path.join(runDir, 'checkpoints', name);
    if (!fs.existsSync(dir)) continue;
    let data: CheckpointData | undefined;
    try {
      data = readCheckpoint(dir);
      accept({ dir, data });
      return { chosen: { dir, data }, refused };
    } catch (e: any) {
      if (data) disposeCheckpoint(data);
      if (!(e instanceof CheckpointError)) throw e;   // not damage (a changed config, a bug): no other checkpoint helps
      refused.push({ dir, reason: e.message });
    }
  }
  return { chosen: null, refused };
}

/** The newest checkpoint that loads: `last`, else `prev`. Refusals are reported through warn(). */
export function loadLatestCheckpoint(runDir: string, warn: (msg: string) => void = () => {}): { dir: string; data: CheckpointData } | null {
  const { chosen, refused } = chooseCheckpoint(runDir);
  for (const r of refused) warn(`refusing checkpoint ${r.dir}: ${r.reason}`);
  return chosen;
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
