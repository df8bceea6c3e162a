import * as path from 'node:path';
import type { Command } from './commands';
import { loadConfig, ConfigError } from '../train/schema';
import { preflight } from '../train/preflight';
import { buildCache } from '../train/cache/builder';
import { absolutePaths } from '../train/trainer';

export const cacheCommand: Command = {
  summary: 'fill the teacher-output cache of a config up front (civet cache build CONFIG)',
  usage: `civet cache build CONFIG.yaml [--set key.path=value]... [--quiet]

Runs every cached teacher (teachers.N.cache: {views, topk, dir}) once on every view of every
training sample and stores its outputs, with a progress bar; views already stored are skipped.
Without it a run fills the cache lazily during its first pass. Relative paths resolve against
the config file's folder. Exit status: 0 done, 2 bad config or usage.`,
  options: { set: { type: 'string', multiple: true }, quiet: { type: 'boolean', default: false } },
  async run(v, pos) {
    if (pos[0] !== 'build' || pos.length !== 2) { process.stderr.write('civet cache: usage: civet cache build CONFIG.yaml\n'); return 2; }
    try {
      const { config: raw, source } = loadConfig(pos[1], v.set ?? []);
      const base = path.dirname(path.resolve(pos[1]));
      const config = absolutePaths(raw, base);   // as train() sees it, so a run finds the same folder
      preflight(config, source, v.set ?? []);
      const r = await buildCache(config, base, { quiet: v.quiet });
      process.stdout.write(`teacher cache: ${r.samples} samples × ${r.views} views, ${r.teachers.map((t) => `${t.name} ${t.computed} computed`).join(', ')}, in ${r.seconds.toFixed(1)} s\n`);
      return 0;
    } catch (e: any) {
      if (e instanceof ConfigError) { process.stderr.write(`civet cache: ${e.message}\n`); return 2; }
      throw e;
    }
  },
};
