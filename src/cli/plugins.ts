// Loads the modules that register models, losses and bench workloads, so CLI commands see the
// whole library. A module that is missing (a partial build) is skipped, never fatal.
const MODULES = [
  '../models', '../distill', '../bench/workloads', '../bench/civt_step', '../data/bench_loader',
  '../../bench/workloads_vit', '../../bench/workloads_cnn', '../../bench/workloads_civt',
];

let loaded = false;
export function loadPlugins(): void {
  if (loaded) return;
  loaded = true;
  for (const m of MODULES) {
    try {
      require(m);
    } catch (e: any) {
      if (e?.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes(m.replace(/^(\.\.\/)+/, ''))) throw e;
    }
  }
}
