// Run directories: which folder a new run writes to, who may write to a run (a lock file), and
// keeping a run's records (metrics.jsonl, TensorBoard events) in step with the checkpoint it
// resumes from, so no step is ever logged twice and no run's records are mixed with another's.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { truncateEventsAfter } from './tensorboard';

/** A run directory that cannot be used as asked (locked, or nothing in it to resume from). */
export class RunDirError extends Error {
  constructor(msg: string) { super(msg); this.name = 'RunDirError'; }
}

export const LOCK_FILE = 'run.lock';

interface LockInfo { pid: number; host: string; started: string }

/** Whether a run directory holds a run: a checkpoint, a finished summary, or a lock. */
export function holdsRun(dir: string): boolean {
  return hasRunState(dir) || fs.existsSync(path.join(dir, LOCK_FILE));
}

function hasRunState(dir: string): boolean {
  return ['checkpoints/last', 'checkpoints/prev', 'checkpoints/best', 'summary.json'].some((f) => fs.existsSync(path.join(dir, f)));
}

export function isFinished(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'summary.json'));
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8'));
    return Number.isInteger(v?.pid) && typeof v?.host === 'string' ? v : null;
  } catch { return null; }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e: any) { return e.code === 'EPERM'; }
}

/**
 * Takes the run directory's lock (`run.lock`: pid, host, start time), created exclusively so two
 * processes can never both hold it. A lock held by a live process on this host is always refused;
 * a stale one (its process is gone, or it was taken on another host, which this one cannot check)
 * is refused with what is known about it unless `breakLock`. Returns the release function; the
 * lock is also released when the process exits or is interrupted (SIGINT, SIGTERM).
 */
export function lockRun(runDir: string, o: { breakLock?: boolean; log?: (l: string) => void } = {}): () => void {
  const file = path.join(runDir, LOCK_FILE);
  const me: LockInfo = { pid: process.pid, host: os.hostname(), started: new Date().toISOString() };
  const text = JSON.stringify(me) + '\n';
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, text, { flag: 'wx' });
      break;
    } catch (e: any) {
      if (e.code !== 'EEXIST') throw e;
    }
    const held = readLock(file);
    const who = held ? `pid ${held.pid} on ${held.host} (since ${held.started})` : 'an unknown process (the lock file is unreadable)';
    const local = held !== null && held.host === os.hostname();
    if (local && alive(held.pid)) {
      throw new RunDirError(`${runDir} is in use by ${who}: wait for it to finish (if that process is not a civet run, delete ${file})`);
    }
    if (!o.breakLock || attempt > 0) {
      const why = local ? 'that process is no longer running' : held ? `it was taken on another host, which cannot be checked from ${os.hostname()}` : 'its owner cannot be checked';
      throw new RunDirError(`${runDir} is locked by ${who}, and ${why}: the lock is stale if no civet run uses this folder; pass --break-lock to break it`);
    }
    o.log?.(`breaking the stale lock of ${who} on ${runDir}`);
    fs.rmSync(file, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    for (const [s, h] of handlers) process.removeListener(s, h);
    // only our own lock: never a lock another process took after ours was broken
    try { if (fs.readFileSync(file, 'utf8') === text) fs.rmSync(file, { force: true }); } catch { /* already gone */ }
  };
  process.once('exit', release);
  // An interrupted run releases its lock; the signal is then raised again for its default action.
  // Only where nobody else handles the signal: a program with its own handler decides itself.
  const handlers: [NodeJS.Signals, () => void][] = [];
  for (const s of ['SIGINT', 'SIGTERM'] as NodeJS.Signals[]) {
    if (process.listenerCount(s) > 0) continue;
    const h = () => { release(); process.kill(process.pid, s); };
    handlers.push([s, h]);
    process.once(s, h);
  }
  return release;
}

/**
 * Before a study trains or resumes a run in `runDir`: a lock left by a process of this host that is
 * gone (a run killed with SIGKILL cannot release it) is broken, with a note, since nothing can be
 * writing to the folder. A lock held by a live process is refused; one taken on another host (or
 * unreadable) cannot be checked from here and is refused unless `breakLock`.
 */
export function breakDeadLock(runDir: string, o: { breakLock?: boolean; log?: (l: string) => void } = {}): void {
  const file = path.join(runDir, LOCK_FILE);
  if (!fs.existsSync(file)) return;
  const held = readLock(file);
  const who = held ? `pid ${held.pid} on ${held.host} (since ${held.started})` : 'an unknown process (the lock file is unreadable)';
  const local = held !== null && held.host === os.hostname();
  if (local && alive(held.pid)) throw new RunDirError(`${runDir} is in use by ${who}: wait for it to finish (if that process is not a civet run, delete ${file})`);
  if (!local && !o.breakLock) {
    throw new RunDirError(`${runDir} is locked by ${who}, which cannot be checked from ${os.hostname()}: the lock is stale if no civet run uses this folder; pass --break-lock to break it`);
  }
  o.log?.(`${runDir}: breaking the stale lock of ${who}${local ? ': that process is no longer running' : ' (--break-lock)'}`);
  fs.rmSync(file, { force: true });
}

/**
 * The folder a new run writes to, locked: `base`, or the first of base-2, base-3, … that holds no
 * run. A folder left by a run that failed before its first checkpoint (records, no checkpoint) is
 * emptied first: a new run never appends to an old run's records.
 */
export function claimNewRunDir(base: string, o: { log?: (l: string) => void } = {}): { runDir: string; release: () => void } {
  for (let k = 1; ; k++) {
    const dir = k === 1 ? base : `${base}-${k}`;
    if (holdsRun(dir)) continue;
    fs.mkdirSync(dir, { recursive: true });
    let release: () => void;
    try { release = lockRun(dir); } catch (e) { if (e instanceof RunDirError) continue; throw e; }
    if (hasRunState(dir)) { release(); continue; }   // another process got there first
    const removed = clearRecords(dir);
    if (dir !== base) o.log?.(`${base} already holds a run (resume it with --resume ${base}); writing this one to ${dir}`);
    if (removed.length) o.log?.(`${dir}: removed the records of an earlier run that left no checkpoint (${removed.join(', ')})`);
    return { runDir: dir, release };
  }
}

/** Removes a run's records and checkpoints (not its config or lock); returns what was removed. */
export function clearRecords(dir: string): string[] {
  const removed: string[] = [];
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (f === 'metrics.jsonl' || f === 'report.html' || f === 'checkpoints' || f.startsWith('events.out.tfevents.')) {
      fs.rmSync(path.join(dir, f), { recursive: true, force: true });
      removed.push(f);
    }
  }
  return removed;
}

/**
 * Cuts a run's records back to `step`, the step of the checkpoint it resumes from: lines of
 * metrics.jsonl from the first one past that step (or the first unreadable one) on, and each
 * TensorBoard event file's records past it. The resumed run logs those steps again.
 */
export function truncateRecords(dir: string, step: number, log?: (l: string) => void): void {
  const file = path.join(dir, 'metrics.jsonl');
  if (fs.existsSync(file)) {
    const text = fs.readFileSync(file, 'utf8');
    let off = 0, dropped = 0, cut = -1;
    for (const line of text.split('\n')) {
      const end = off + line.length + 1;
      if (line.trim()) {
        let rec: any;
        try { rec = JSON.parse(line); } catch { rec = null; }
        if (cut < 0 && (rec === null || typeof rec !== 'object' || (typeof rec.step === 'number' && rec.step > step))) cut = off;
        if (cut >= 0) dropped++;
      }
      off = end;
    }
    if (cut >= 0) {
      fs.truncateSync(file, Buffer.byteLength(text.slice(0, cut)));
      log?.(`${file}: dropped ${dropped} record${dropped === 1 ? '' : 's'} logged after step ${step} (the run resumes from there)`);
    }
  }
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith('events.out.tfevents.')) truncateEventsAfter(path.join(dir, f), step);
  }
}
