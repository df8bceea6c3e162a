// The run's side of the teacher-output cache: which teachers are cached (config
// `teachers.N.cache`), the identity their store is checked against, and the loader's view set.
import * as path from 'node:path';
import type { Teacher } from '../../distill/distiller';
import type { Config } from '../schema';
import type { RunData } from '../data';
import { OutputStore } from './store';
import { CachedTeacher, rowLayout, rowWidth, layoutName } from './cached_teacher';
import { teacherWeightsHash, transformHash, datasetIdentity } from './identity';

/** The view set the loader draws from when any teacher is cached: { views, seed }, else null. */
export function cacheViewSet(cfg: Config): { views: number; seed: number } | null {
  const c = cfg.teachers.find((t) => t.cache)?.cache;
  return c ? { views: c.views, seed: c.seed } : null;
}

/** What decides a view's pixels and the teacher's input, besides the image: hashed into the store's header. */
export function transformDescription(cfg: Config, data: RunData, t: Config['teachers'][number]): unknown {
  const d = cfg.data;
  return { augment: d.augment, imgSize: d.imgSize, channels: d.channels, norm: data.norm, viewSeed: t.cache?.seed, teacherInput: { normalize: t.normalize ?? null, imgSize: t.imgSize ?? null } };
}

/** The teachers with `cache` set, wrapped in CachedTeacher over their store (built, checked, and
 *  emptied with a message when it was computed from anything else). */
export function wrapCachedTeachers(cfg: Config, data: RunData, teachers: Teacher[], baseDir: string, log: (l: string) => void = (l) => process.stderr.write(l + '\n')): Teacher[] {
  const dataset = cfg.teachers.some((t) => t.cache) ? datasetIdentity(data.train) : '';
  return teachers.map((live, i) => {
    const t = cfg.teachers[i];
    if (!t.cache) return live;
    const layout = rowLayout(data.numClasses, t.cache.topk);
    const file = t.torchscript ? path.resolve(baseDir, t.torchscript) : undefined;
    const store = new OutputStore(path.resolve(baseDir, t.cache.dir), {
      weightsHash: teacherWeightsHash(live, file, { model: t.model ?? null, options: t.options, normalize: t.normalize ?? null, imgSize: t.imgSize ?? null }),
      transformHash: transformHash(transformDescription(cfg, data, t)),
      dataset, width: rowWidth(layout), views: t.cache.views, samples: data.train.length, layout: layoutName(layout),
    }, log);
    // the store is rewritten whole at each flush (random order dirties every chunk): a few times per fill, and at the end
    return new CachedTeacher(live, store, layout, Math.max(4096, Math.ceil(data.train.length * t.cache.views / 4)));
  });
}
