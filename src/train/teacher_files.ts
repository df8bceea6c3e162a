// The files a run's teachers are loaded from, and their SHA-256 digests. A run records them when it
// starts (RUN/teachers.json); `--resume` refuses a run whose teacher file has changed since, because
// the teacher that taught the first part of a run must be the one that teaches the rest (a student
// distilled from two different teachers is neither's). Studies compare them too, so a run whose
// teacher (say an earlier variant's student) was retrained is trained again.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from './schema';
import { writeFileAtomic } from '../util/atomic';

export const TEACHERS_FILE = 'teachers.json';

export interface TeacherFile { teacher: number; file: string; sha256: string | null }

/** The file each teacher is loaded from (absolute paths; a `run:` teacher is its checkpoint's weights). */
export function teacherFilePaths(cfg: Config): { teacher: number; file: string }[] {
  return cfg.teachers.flatMap((t, i) => {
    const f = t.torchscript ?? t.weights ?? (t.run ? path.join(t.run, 'checkpoints', t.checkpoint, 'model.safetensors') : undefined);
    return f === undefined ? [] : [{ teacher: i, file: path.resolve(f) }];
  });
}

/** SHA-256 of a file, read in 1 MiB pieces (teacher weights can be large); null when it cannot be read. */
export function sha256File(file: string): string | null {
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch { return null; }
  try {
    const h = crypto.createHash('sha256'), buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
    return h.digest('hex');
  } catch { return null; } finally { fs.closeSync(fd); }
}

export function teacherFiles(cfg: Config): TeacherFile[] {
  return teacherFilePaths(cfg).map((t) => ({ ...t, sha256: sha256File(t.file) }));
}

export function recordTeacherFiles(runDir: string, files: TeacherFile[]): void {
  writeFileAtomic(path.join(runDir, TEACHERS_FILE), JSON.stringify({ teachers: files }, null, 2) + '\n');
}

/** What was recorded when the run started; null for a run that recorded nothing (older civet). */
export function recordedTeacherFiles(runDir: string): TeacherFile[] | null {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(runDir, TEACHERS_FILE), 'utf8'));
    return Array.isArray(v?.teachers) ? v.teachers : null;
  } catch { return null; }
}

/**
 * How the teacher files differ from those recorded in the run: one line per changed file, naming it
 * (empty when nothing changed, or the run recorded nothing to compare with).
 */
export function teacherFileChanges(runDir: string, now: TeacherFile[]): string[] {
  const then = recordedTeacherFiles(runDir);
  if (then === null) return [];
  const short = (h: string | null) => (h === null ? 'missing' : `sha256 ${h.slice(0, 12)}…`);
  const out: string[] = [];
  const n = Math.max(then.length, now.length);
  for (let i = 0; i < n; i++) {
    const a = then[i], b = now[i];
    if (!a || !b) { out.push(`teachers.${(a ?? b).teacher}: ${a ? `${a.file} is no longer a teacher` : `${b.file} was not a teacher when the run started`}`); continue; }
    if (a.file !== b.file) out.push(`teachers.${b.teacher}: the file was ${a.file}, now ${b.file}`);
    else if (a.sha256 !== b.sha256) out.push(`teachers.${b.teacher}: ${b.file} changed since the run started (${short(a.sha256)} then, ${short(b.sha256)} now)`);
  }
  return out;
}
