// `civet cache build CONFIG`: fills every cached teacher's store up front, walking every view of
// every training sample (the same views, keys and pixels the run's loader will draw), instead of
// lazily during the first pass. Views already stored are skipped, so an interrupted build resumes.
import * as path from 'node:path';
import { Module } from '../../nn/module';
import { teacherLogits, type Teacher } from '../../distill/distiller';
import type { Config } from '../schema';
import { ConfigError } from '../schema';
import { loadRunData, trainLoader } from '../data';
import { buildTeacher } from '../teachers';
import { Progress } from '../progress';
import { CachedTeacher } from './cached_teacher';
import { wrapCachedTeachers, cacheViewSet } from './setup';

export interface CacheBuildResult { teachers: { name: string; dir: string; computed: number; present: number }[]; views: number; samples: number; seconds: number }

export async function buildCache(cfg: Config, baseDir: string, o: { quiet?: boolean; log?: (l: string) => void } = {}): Promise<CacheBuildResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const vs = cacheViewSet(cfg);
  if (!vs) throw new ConfigError('civet cache build: no teacher has a cache (set teachers.N.cache: {views, topk, dir})');
  const t0 = Date.now();
  const data = await loadRunData(cfg, baseDir);
  const shape = { numClasses: data.numClasses, imgSize: cfg.data.imgSize, inChans: cfg.data.channels, norm: data.norm };
  const live: Teacher[] = cfg.teachers.map((t, i) => buildTeacher(t, i, shape, baseDir));
  for (const t of live) if (t instanceof Module) { t.to(cfg.run.device); t.eval(); t.requiresGrad_(false); }
  const all = wrapCachedTeachers(cfg, data, live, baseDir, log);
  const cached = all.filter((t): t is CachedTeacher => t instanceof CachedTeacher);
  const loader = trainLoader(cfg, data);
  const n = data.train.length, bs = cfg.batchSize, perView = Math.ceil(n / bs);
  const progress = o.quiet ? null : new Progress({ totalEpochs: 1, stepsPerEpoch: vs.views * perView });
  try {
    let done = 0;
    for (let v = 0; v < vs.views; v++) {
      for (let s = 0; s < n; s += bs) {
        const indices = Int32Array.from({ length: Math.min(bs, n - s) }, (_, k) => s + k);
        const b = await loader.viewBatch(indices, new Int32Array(indices.length).fill(v));
        try {
          const x = cfg.run.device === 'cpu' ? b.x : b.x.to({ device: cfg.run.device });
          for (const t of cached) {
            t.setBatch(b.indices, b.views!);
            // a fully stored batch is not recomputed: the lookup answers it
            teacherLogits(t, x).dispose();
          }
          if (x !== b.x) x.dispose();
        } finally { b.x.dispose(); b.y.dispose(); }
        progress?.update({ epoch: 0, step: ++done, images: indices.length });
      }
    }
  } finally {
    progress?.finish();
    await loader.close();
  }
  const teachers = cached.map((t) => ({ name: t.name, dir: t.store.dir, computed: t.misses, present: t.hits }));
  for (const t of all) if ('dispose' in t && typeof (t as any).dispose === 'function') (t as any).dispose();   // flushes the stores
  for (const t of teachers) log(`${t.name}: ${t.computed} views computed, ${t.present} already stored (${path.relative(process.cwd(), t.dir) || t.dir})`);
  return { teachers, views: vs.views, samples: n, seconds: (Date.now() - t0) / 1000 };
}
