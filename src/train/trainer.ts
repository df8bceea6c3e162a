// `civet train`: a validated config in, a trained student, checkpoints, metrics and summary.json
// out. The CLI and the programmatic API call the same train(); the CLI then renders the HTML
// report (report/ sits above train/) at summary.report.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor, tidy, noGrad, manualSeed, setNumThreads, getNumThreads, getRngState, setRngState, fromTypedArray, bf16Supported, cudaAvailable } from '../tensor';
import { methodEntry } from '../distill/registry';
import type { Distiller } from '../distill/distiller';
import { ModelEma, flattenOptimizerState, unflattenOptimizerState } from '../optim';
import { buildRun, buildOptimization } from './build';
import { Stepper, StepResult, NonFiniteError, evaluate, EvalResult } from './fit';
import { loadConfig, loadRunConfig, configHash, Config, ConfigError } from './schema';
import { preflight } from './preflight';
import { trainLoader, evalBatches, RunData } from './data';
import { writeCheckpoint, chooseCheckpoint, disposeCheckpoint, cleanTemporaries, CHECKPOINT_FORMAT, CheckpointState, CheckpointData, CheckpointError } from './checkpoints';
import { lockRun, claimNewRunDir, isFinished, clearRecords, truncateRecords, RunDirError } from './run_dir';
import type { Optimizer } from '../optim/optimizer';
import type { DataLoader } from '../data/loader';
import { MetricsLog } from './metrics';
import { EventWriter } from './tensorboard';
import { Progress } from './progress';
import { writeFileAtomic } from '../util/atomic';
import '../models';
import '../distill';

export interface TrainOptions {
  /** `a.b=c` overrides applied to the config */
  set?: string[];
  /** continue the run in this directory */
  resume?: string;
  /** parent directory of runs (overrides run.out) */
  out?: string;
  /** directory the config's relative paths (data, teacher weights) resolve against; default: the
   *  config file's directory. A config object with relative paths needs it. */
  baseDir?: string;
  /** progress and messages; default stderr */
  log?: (line: string) => void;
  quiet?: boolean;
  /** with resume: when neither `last` nor `prev` can be used, train the run again from the
   *  beginning (its checkpoints and records are discarded) instead of refusing */
  restart?: boolean;
  /** with resume: break a stale run lock (its process is gone, or it was taken on another host) */
  breakLock?: boolean;
}

export interface TrainSummary {
  name: string; runDir: string; method: string; student: string; model: string; teachers: string[];
  bestTop1: number; top1: number; top5: number; ece: number; loss: number; params: number;
  steps: number; epochs: number; skippedSteps: number; wallTimeSec: number; imgPerSec: number; report: string;
}

export { NonFiniteError, RunDirError };
export type { EvalResult };

export async function train(config: string | object | null, opts: TrainOptions = {}): Promise<TrainSummary> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  // ---- configuration and run directory -------------------------------------------------------
  // Nothing of a run (config.json, config.hash, records, checkpoints) changes before every check
  // has passed; a resumed run is locked before anything in it is read for writing.
  let cfg: Config, source: string, runDir: string, release: () => void;
  if (opts.resume) {
    runDir = path.resolve(opts.resume);
    ({ config: cfg, source } = loadResumedConfig(runDir, opts.set ?? []));
    if (isFinished(runDir)) {
      // a finished run is left as it is: its summary and report stay those it finished with
      log(`${runDir} finished before (summary.json); nothing to resume, the run is left as it is`);
      return JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as TrainSummary;
    }
  } else {
    if (config === null) throw new ConfigError('train: give a config (file or object) or resume a run');
    ({ config: cfg, source } = loadConfig(config, opts.set ?? []));
    runDir = '';
  }
  const device = cfg.run.device;
  if (device !== 'cpu' && !cudaAvailable()) throw new ConfigError(`${source}: run.device: '${device}' asked for, but this civet build has no CUDA device (build with LIBTORCH pointing at a CUDA libtorch)`);
  if (cfg.precision === 'bf16' && !bf16Supported(device)) {
    throw new ConfigError(`${source}: precision: bf16 needs a CUDA device or a CPU with AVX-512 BF16/AMX; this ${device} has neither (use fp32)`);
  }
  const amp = { enabled: cfg.precision === 'bf16', device: (device === 'cpu' ? 'cpu' : 'cuda') as 'cpu' | 'cuda', dtype: 'bfloat16' as const };
  // Paths in a config are relative to its file; the run's config.json stores them absolute, so
  // --resume and `civet eval` work from any directory.
  const baseDir = opts.baseDir ? path.resolve(opts.baseDir) : typeof config === 'string' ? path.dirname(path.resolve(config)) : null;
  if (!opts.resume) {
    if (baseDir === null && hasRelativePaths(cfg)) throw new ConfigError(`${source}: a config object with relative paths needs TrainOptions.baseDir to resolve them against`);
    const base = path.resolve(opts.out ?? cfg.run.out, cfg.run.name);
    cfg = absolutePaths(cfg, baseDir ?? path.parse(base).root);
    preflight(cfg, source, opts.set ?? []);   // models, method, teachers, data: every mistake before the run folder exists
    // never overwrite a run: a name already taken gets the next free suffix (-2, -3, …)
    ({ runDir, release } = claimNewRunDir(base, { log }));
  } else {
    release = lockRun(runDir, { breakLock: opts.breakLock, log });
  }
  const hash = configHash(cfg);
  try {
    cleanTemporaries(runDir);
    if (!opts.resume) {
      writeFileAtomic(path.join(runDir, 'config.json'), JSON.stringify(cfg, null, 2));
      writeFileAtomic(path.join(runDir, 'config.hash'), hash + '\n');
    }
    return await trainLocked(cfg, source, runDir, hash, amp, opts, log);
  } finally {
    release();
  }
}

async function trainLocked(cfg: Config, source: string, runDir: string, hash: string, amp: { enabled: boolean; device: 'cpu' | 'cuda'; dtype: 'bfloat16' }, opts: TrainOptions, log: (l: string) => void): Promise<TrainSummary> {
  const device = cfg.run.device;
  // ---- determinism, data, models ---------------------------------------------------------------
  if (cfg.run.deterministic) setNumThreads(1);   // fixed reduction order: bit-exact across runs and resumes on CPU
  else if (cfg.run.threads) setNumThreads(cfg.run.threads);
  manualSeed(cfg.run.seed);
  const { data, teachers, distiller } = await buildRun(cfg, runDir);   // every path is absolute by now
  const loader = trainLoader(cfg, data, { classPairs: methodEntry(cfg.method.name).batches === 'classPairs' });
  const stepsPerEpoch = Math.floor(loader.length / cfg.accumulate);
  if (stepsPerEpoch < 1) throw new ConfigError(`${source}: batchSize ${cfg.batchSize} × accumulate ${cfg.accumulate} is larger than the training set (${data.train.length} images)`);
  const { optimizer, schedule } = buildOptimization(cfg, distiller, stepsPerEpoch);
  const ema = cfg.ema ? new ModelEma(distiller.student, { decay: cfg.ema.decay }) : null;
  const stepper = new Stepper(distiller, optimizer, {
    accumulate: cfg.accumulate, onNonFinite: cfg.numerics.onNonFinite, device, log, clipGrad: cfg.clipGrad ?? 0,
    amp, ema, injectNanAtStep: cfg.numerics.injectNanAtStep ?? undefined,
    lr: (op, ctx) => schedule.applyTo(op, { epoch: ctx.epoch, iteration: ctx.step }),
  });

  // ---- resume ------------------------------------------------------------------------------
  let step = 0, epoch = 0, bestTop1 = -1, skipped = 0, wallBefore = 0;
  if (opts.resume) {
    const st = resumeRun({ runDir, hash, distiller, optimizer, ema, loader }, { restart: opts.restart, log });
    if (st) ({ step, epoch, bestTop1, skippedSteps: skipped, wallTimeSec: wallBefore } = st);
    if (st) log(`resumed ${runDir} at step ${step} (epoch ${epoch + 1}/${cfg.epochs}) from ${st.dir}`);
    // the config is the run's own (config.json); only a missing or stale hash file is rewritten
    const hashFile = path.join(runDir, 'config.hash');
    if (!fs.existsSync(hashFile) || fs.readFileSync(hashFile, 'utf8').trim() !== hash) writeFileAtomic(hashFile, hash + '\n');
  }

  const metrics = new MetricsLog(runDir);
  const tb = new EventWriter(runDir);
  let lastEval: EvalResult | null = null;
  const progress = opts.quiet ? null : new Progress({ totalEpochs: cfg.epochs, stepsPerEpoch });
  const t0 = Date.now();
  let imgSeen = 0, lastLoss = NaN;

  const checkpoint = (name: 'last' | 'best') => {
    if (!paramsFinite(distiller)) throw new NonFiniteError(`refusing to write a checkpoint at step ${step}: the weights contain NaN or Inf`);
    const extra = new Map<string, Tensor>();
    const fo = flattenOptimizerState(optimizer.stateDict());
    for (const [k, v] of fo.tensors) extra.set(`opt.${k}`, v);
    if (ema) for (const [k, v] of ema.stateDict()) extra.set(`ema.${k}`, v);
    const rng = getRngState();
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT, step, epoch, loader: loader.state(), rng: Array.from(rng.toTypedArray() as Uint8Array),
      // 'best' holds weights only (no optimizer or EMA slots), and its state says so: `civet eval` reads it
      configHash: hash, optimizer: name === 'last' ? fo.meta : null, ema: ema && name === 'last' ? ema.meta() : null, bestTop1, skippedSteps: skipped,
      wallTimeSec: wallBefore + (Date.now() - t0) / 1000,
    };
    rng.dispose();
    writeCheckpoint(runDir, name, { weights: distiller.stateDict(), extra: name === 'last' ? extra : new Map(), state });
  };

  try {
    // ---- epochs ------------------------------------------------------------------------------
    while (epoch < cfg.epochs) {
      distiller.train();
      stepper.restartWindow();
      let inEpoch = Math.floor(loader.state().sampler.position / (cfg.batchSize * cfg.accumulate));
      const tEpoch = Date.now();
      let imgEpoch = 0;
      for await (const b of loader) {
        const ctx = { step, epoch, totalEpochs: cfg.epochs, stepsPerEpoch };
        let r: StepResult;
        try { r = stepper.step(b, ctx); } finally { b.x.dispose(); b.y.dispose(); b.soft?.dispose(); }
        imgSeen += b.indices.length; imgEpoch += b.indices.length;
        if (r.kind === 'accumulating') continue;
        step++; inEpoch++;
        if (r.kind === 'skipped') { skipped++; continue; }
        const termValues = { vals: r.terms }, lr = r.lr, loss = r.loss;
        lastLoss = loss;
        progress?.update({ epoch, step: inEpoch, loss, images: b.indices.length * cfg.accumulate });
        if (step % cfg.log.everySteps === 0) {
          const ips = imgEpoch / Math.max(1e-3, (Date.now() - tEpoch) / 1000);
          metrics.append({ kind: 'train', step, epoch, loss, terms: termValues.vals, lr, imgPerSec: ips });
          tb.addScalars({ 'train/loss': loss, 'train/lr': lr, ...Object.fromEntries(Object.entries(termValues.vals).map(([k, v]) => [`train/${k}`, v])) }, step);
        }
        if (cfg.checkpoint.everySteps && step % cfg.checkpoint.everySteps === 0 && inEpoch < stepsPerEpoch) checkpoint('last');
        if (inEpoch >= stepsPerEpoch) break;  // dropped remainder of an accumulation window
      }
      // a `break` above leaves the loader mid-epoch: move it to the next epoch explicitly
      if (loader.state().sampler.epoch === epoch) loader.setEpoch(epoch + 1);
      epoch++;
      if (epoch % cfg.eval.everyEpochs === 0 || epoch === cfg.epochs) {
        const r = evaluateRun(distiller, cfg, data, device);
        lastEval = r;
        const rec: Record<string, unknown> = { kind: 'eval', epoch: epoch - 1, step, ...r };
        if (ema) rec.top1Ema = ema.withAveraged(distiller.student, () => evaluateRun(distiller, cfg, data, device).top1);
        metrics.append(rec as any);
        tb.addScalars({ 'eval/top1': r.top1, 'eval/top5': r.top5, 'eval/loss': r.loss, 'eval/ece': r.ece }, step);
        progress?.log(`epoch ${epoch}/${cfg.epochs}: top-1 ${(100 * r.top1).toFixed(2)}%, top-5 ${(100 * r.top5).toFixed(2)}%, loss ${r.loss.toFixed(4)}, ECE ${r.ece.toFixed(4)}`);
        if (r.top1 > bestTop1) { bestTop1 = r.top1; checkpoint('best'); }
      }
      checkpoint('last');
    }
  } finally {
    progress?.finish();
    metrics.close();
    tb.close();
    await loader.close();
  }

  // ---- summary and report --------------------------------------------------------------------
  // the last epoch always evaluates; a run resumed after its last epoch evaluates here
  const final = lastEval ?? evaluateRun(distiller, cfg, data, device);
  const wall = wallBefore + (Date.now() - t0) / 1000;
  const summary: TrainSummary = {
    name: cfg.run.name, runDir, method: cfg.method.name, student: cfg.student.model, model: cfg.student.model,
    teachers: cfg.teachers.map((t) => t.model ?? t.torchscript ?? t.run ?? '?'),
    bestTop1: Math.max(bestTop1, final.top1), top1: final.top1, top5: final.top5, ece: final.ece, loss: final.loss,
    params: distiller.student.numParameters(), steps: step, epochs: cfg.epochs, skippedSteps: skipped, wallTimeSec: wall,
    imgPerSec: imgSeen / Math.max(1e-3, (Date.now() - t0) / 1000), report: path.join(runDir, 'report.html'),
  };
  writeFileAtomic(path.join(runDir, 'summary.json'), JSON.stringify(summary, null, 2));
  void lastLoss;
  distiller.dispose();
  for (const t of teachers) if ('dispose' in t && typeof (t as any).dispose === 'function') (t as any).dispose();
  ema?.dispose();
  optimizer.dispose?.();
  return summary;
}

// ---- resuming a run ------------------------------------------------------------------------------

/** The run's own config (config.json). `--set` may not change it: a changed key is refused here,
 *  naming it, before anything of the run is touched. */
function loadResumedConfig(runDir: string, sets: string[]): { config: Config; source: string } {
  const file = path.join(runDir, 'config.json');
  if (!fs.existsSync(file)) throw new ConfigError(`--resume ${runDir}: not a civet run directory (no config.json)`);
  const own = loadRunConfig(runDir).config;          // a bad config.json is named (schema.ts)
  const { config } = loadRunConfig(runDir, sets);
  if (configHash(config) !== configHash(own)) {
    const changed = diffKeys(own, config).map(([k, a, b]) => `${k} (${JSON.stringify(a)} → ${JSON.stringify(b)})`);
    throw new ConfigError(`--set ${sets.join(' ')}: a resumed run keeps its config (${file}); this would change ${changed.join(', ')}. Start a new run to train with other settings`);
  }
  return { config: own, source: file };
}

function diffKeys(a: any, b: any, at = ''): [string, unknown, unknown][] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => diffKeys(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [[at, a, b]];
}

interface ResumeTarget { runDir: string; hash: string; distiller: Distiller; optimizer: Optimizer<any>; ema: ModelEma | null; loader: DataLoader }
interface Resumed { dir: string; step: number; epoch: number; bestTop1: number; skippedSteps: number; wallTimeSec: number }

/**
 * Restores the training state from the newest usable checkpoint (`last`, else `prev`) and cuts the
 * run's records back to its step. Restoring is part of the check: a generator, loader, weight or
 * optimizer state that does not fit is damage of that checkpoint, and the next one is tried. With
 * no checkpoint at all the run starts from the beginning; with checkpoints that are all unusable
 * it is refused with the reasons, unless `restart`.
 */
function resumeRun(t: ResumeTarget, o: { restart?: boolean; log: (l: string) => void }): Resumed | null {
  if (!['last', 'prev'].some((n) => fs.existsSync(path.join(t.runDir, 'checkpoints', n)))) {
    const removed = clearRecords(t.runDir);
    o.log(`${t.runDir}: no checkpoint written yet; starting from the beginning${removed.length ? ` (removed ${removed.join(', ')})` : ''}`);
    return null;
  }
  // a refused checkpoint may have been applied in part; --restart puts the initial state back
  const initial = o.restart ? snapshotTraining(t) : null;
  try {
    const { chosen, refused } = chooseCheckpoint(t.runDir, (c) => applyCheckpoint(t, c));
    for (const r of refused) o.log(`refusing checkpoint ${r.dir}: ${r.reason}`);
    if (chosen) {
      const st = chosen.data.state;
      disposeCheckpoint(chosen.data);
      truncateRecords(t.runDir, st.step, o.log);
      return { dir: chosen.dir, step: st.step, epoch: st.epoch, bestTop1: st.bestTop1, skippedSteps: st.skippedSteps, wallTimeSec: st.wallTimeSec };
    }
    if (!initial) {
      throw new RunDirError(`${t.runDir}: no usable checkpoint to resume from:\n  ${refused.map((r) => r.reason).join('\n  ')}\n` +
        'pass --restart to train the run again from the beginning (its checkpoints and records are discarded)');
    }
    restoreSnapshot(t, initial);
    const removed = clearRecords(t.runDir);
    o.log(`--restart: no usable checkpoint in ${t.runDir}; training it again from the beginning (removed ${removed.join(', ')})`);
    return null;
  } finally {
    if (initial) disposeSnapshot(initial);
  }
}

/** Puts one checkpoint's state into the run; throws a CheckpointError naming the file and part
 *  that does not fit (a config change is a ConfigError: no other checkpoint would fit either). */
function applyCheckpoint(t: ResumeTarget, c: { dir: string; data: CheckpointData }): void {
  const st = c.data.state;
  const stateFile = path.join(c.dir, 'state.json'), modelFile = path.join(c.dir, 'model.safetensors'), extraFile = path.join(c.dir, 'extra.safetensors');
  if (st.configHash !== t.hash) throw new ConfigError(`${c.dir}: the checkpoint was written with another config (hash ${st.configHash}, now ${t.hash}): ${path.join(t.runDir, 'config.json')} was changed after it`);
  const part = (file: string, what: string, fn: () => void) => {
    try { fn(); } catch (e: any) { throw new CheckpointError(file, `${what}: ${String(e.message).replace(`${file}: `, '')}`); }
  };
  // the generator state first: it is checked whole before it is set
  part(stateFile, 'rng', () => {
    const cur = getRngState(), size = cur.shape[0];
    cur.dispose();
    if (st.rng.length !== size) throw new Error(`${st.rng.length} bytes, this libtorch's generator state is ${size} bytes`);
    const r = fromTypedArray(Uint8Array.from(st.rng));
    try { setRngState(r); } finally { r.dispose(); }
  });
  part(stateFile, 'loader', () => t.loader.restore(st.loader as any));
  part(modelFile, 'weights', () => t.distiller.loadStateDict(c.data.weights, { source: modelFile }));
  const opt = new Map<string, Tensor>(), emaSd = new Map<string, Tensor>();
  for (const [k, v] of c.data.extra) (k.startsWith('ema.') ? emaSd.set(k.slice(4), v) : opt.set(k.slice(4), v));
  part(extraFile, 'optimizer state', () => {
    if (!st.optimizer) throw new Error('state.json has none');
    t.optimizer.loadStateDict(unflattenOptimizerState(opt, st.optimizer as any));
  });
  if (t.ema) part(extraFile, 'EMA state', () => { if (!st.ema) throw new Error('state.json has none'); t.ema!.loadStateDict(emaSd, st.ema); });
}

interface Snapshot { weights: Map<string, Tensor>; opt: ReturnType<Optimizer<any>['stateDict']>; ema: { sd: Map<string, Tensor>; meta: { updates: number; decay: number } } | null; rng: Tensor; loader: unknown }

const cloneAll = (m: Map<string, Tensor>) => noGrad(() => new Map([...m].map(([k, v]) => [k, v.clone()] as [string, Tensor])));

function snapshotTraining(t: ResumeTarget): Snapshot {
  return {
    weights: cloneAll(t.distiller.stateDict()), opt: t.optimizer.stateDict(),
    ema: t.ema ? { sd: cloneAll(t.ema.stateDict()), meta: t.ema.meta() } : null, rng: getRngState(), loader: t.loader.state(),
  };
}

function restoreSnapshot(t: ResumeTarget, s: Snapshot): void {
  t.distiller.loadStateDict(s.weights);
  t.optimizer.loadStateDict(s.opt);
  if (t.ema && s.ema) t.ema.loadStateDict(s.ema.sd, s.ema.meta);
  setRngState(s.rng);
  t.loader.restore(s.loader as any);
}

function disposeSnapshot(s: Snapshot): void {
  for (const v of s.weights.values()) v.dispose();
  for (const v of s.ema?.sd.values() ?? []) v.dispose();
  s.rng.dispose();
}

function hasRelativePaths(c: Config): boolean {
  const ps = [c.data.root, c.data.valRoot, ...c.teachers.flatMap((t) => [t.weights, t.torchscript, t.run, t.cache?.dir])];
  return ps.some((p) => p !== undefined && !path.isAbsolute(p));
}

export function absolutePaths(c: Config, base: string): Config {
  const abs = (p?: string) => (p === undefined ? undefined : path.resolve(base, p));
  return {
    ...c,
    data: { ...c.data, root: abs(c.data.root), valRoot: abs(c.data.valRoot) },
    teachers: c.teachers.map((t) => ({ ...t, weights: abs(t.weights), torchscript: abs(t.torchscript), run: abs(t.run), ...(t.cache ? { cache: { ...t.cache, dir: abs(t.cache.dir)! } } : {}) })),
  };
}

/** The run's evaluation split through the one evaluator (train/fit.ts). */
export function evaluateRun(model: { predict(x: Tensor): Tensor; train(m?: boolean): unknown; training: boolean }, cfg: Config, data: RunData, device = 'cpu'): EvalResult {
  return evaluate(model, evalBatches(cfg, data), { numClasses: data.numClasses, device, dispose: true });
}

function paramsFinite(m: Distiller): boolean {
  return tidy(() => noGrad(() => m.parameters().every((p) => Boolean(p.isfinite().all().item()))));
}

export { getNumThreads };
