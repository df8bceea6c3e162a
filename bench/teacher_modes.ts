// How a distillation workload's teachers run (civet bench --cache / --student-only):
// - live: the frozen teachers run forward every step (what torch_bench.py measures);
// - cache: CachedTeacher over an on-disk OutputStore (src/train/cache/), filled on every view
//   before the clock starts, so the timed steps are replay steps: store lookups, no teacher
//   forward — what every epoch after the first costs in a cached run;
// - none: the teachers' outputs computed once and handed out as they are: the student-only step,
//   the limit a cache can approach (a free teacher).
// The step cycles through VIEWS input batches in every mode, so the modes differ only in the teacher.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tensor, randn, tidy } from '../src/tensor';
import { teacherLogits, type Teacher } from '../src/distill/distiller';
import { OutputStore } from '../src/train/cache/store';
import { CachedTeacher, rowLayout, rowWidth, layoutName } from '../src/train/cache/cached_teacher';
import type { Classifier } from '../src/models/registry';

export type TeacherMode = 'live' | 'cache' | 'none';
export const VIEWS = 4;

export interface BenchTeachers {
  teachers: Teacher[];
  /** the input batch of view `v` (and the cached teachers' view keys for it) */
  select(v: number): Tensor;
  /** rows the cached teachers computed live since the warm-up fill (0: every timed step replayed) */
  missesAfterWarmup(): number;
  dispose(): void;
}

export function benchTeachers(live: Classifier[], mode: TeacherMode, shape: { batch: number; chans: number; size: number; classes: number; device: string }): BenchTeachers {
  // frozen before any output is recorded (the distiller would do it only later)
  for (const t of live) { t.eval(); t.requiresGrad_(false); }
  const xs = Array.from({ length: VIEWS }, () => randn([shape.batch, shape.chans, shape.size, shape.size], { device: shape.device }).keep());
  const indices = Int32Array.from({ length: shape.batch }, (_, i) => i);
  const viewsOf = (v: number) => ({ view: new Int32Array(shape.batch).fill(v), keys: Array.from(indices, (i) => (v * 1_000_000 + i + 1).toString(16).padStart(16, '0')), params: [] as any });
  let cur = 0;
  const dirs: string[] = [];
  let teachers: Teacher[] = live;
  let cachedList: CachedTeacher[] = [], warmMisses = 0;
  const extra: Tensor[] = [];
  if (mode === 'none') {
    const fixed = live.map((t) => xs.map((x) => { const o = tidy(() => teacherLogits(t, x)).keep(); extra.push(o); return o; }));
    teachers = live.map((t, k) => ({ name: `${t.constructor.name} (outputs fixed)`, wraps: t, logits: () => fixed[k][cur].clone() }));
  } else if (mode === 'cache') {
    const cached = live.map((t) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-bench-cache-'));
      dirs.push(dir);
      const l = rowLayout(shape.classes, 10);
      return new CachedTeacher(t, new OutputStore(dir, { weightsHash: 'bench', transformHash: 'bench', dataset: 'bench', width: rowWidth(l), views: VIEWS, samples: shape.batch, layout: layoutName(l) }), l);
    });
    // warm-up fill: every view once (the first epoch of a cached run)
    for (let v = 0; v < VIEWS; v++) for (const c of cached) { c.setBatch(indices, viewsOf(v)); tidy(() => { teacherLogits(c, xs[v]); }); }
    for (const c of cached) c.flush();
    cachedList = cached;
    warmMisses = cached.reduce((s, c) => s + c.misses, 0);
    teachers = cached.map((c) => {
      const replay = { name: c.name, wraps: c.live, logits: (x: Tensor) => { c.setBatch(indices, viewsOf(cur)); return c.logits(x); } };
      return replay;
    });
  }
  return {
    teachers,
    select: (v) => { cur = v % VIEWS; return xs[cur]; },
    missesAfterWarmup: () => cachedList.reduce((s, c) => s + c.misses, 0) - warmMisses,
    dispose: () => { for (const x of [...xs, ...extra]) x.dispose(); for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); },
  };
}
