// `civet train`: a validated config in, a trained student, checkpoints, metrics and summary.json
// out. The CLI and the programmatic API call the same train(); the CLI then renders the HTML
// report (report/ sits above train/) at summary.report.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor, tidy, noGrad, manualSeed, setNumThreads, getNumThreads, getRngState, setRngState, fromTypedArray, bf16Supported, cudaAvailable } from '../tensor';
import { methodEntry, methodReadout } from '../distill/registry';
import type { Distiller } from '../distill/distiller';
import { ModelEma, flattenOptimizerState, unflattenOptimizerState } from '../optim';
import { buildRun, buildOptimization } from './build';
import { Stepper, StepResult, NonFiniteError, evaluate, EvalResult, initPhaseOptimizer } from './fit';
import { loadConfig, loadRunConfig, configHash, Config, ConfigError } from './schema';
import { preflight } from './preflight';
import { teacherFiles, teacherFileChanges, recordTeacherFiles, recordedTeacherFiles } from './teacher_files';
import { trainLoader, evalBatches, RunData } from './data';
import { writeCheckpoint, chooseCheckpoint, disposeCheckpoint, cleanTemporaries, CHECKPOINT_FORMAT, CheckpointState, CheckpointData, CheckpointError } from './checkpoints';
import { lockRun, claimNewRunDir, isFinished, clearRecords, truncateRecords, RunDirError } from './run_dir';
import type { Optimizer } from '../optim/optimizer';
import type { DataLoader } from '../data/loader';
import { MetricsLog } from './metrics';
import { EventWriter } from './tensorboard';
import { Progress } from './progress';
import { writeFileAtomic } from '../util/atomic';
import { DataParallel } from './ddp';
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
  /** told the run directory once it is claimed or locked (the launcher resumes it after a failure) */
  onRunDir?: (dir: string) => void;
}

export interface TrainSummary {
  name: string; runDir: string; method: string; student: string; model: string; teachers: string[];
  bestTop1: number; top1: number; top5: number; ece: number; loss: number; params: number;
  steps: number; epochs: number; skippedSteps: number; wallTimeSec: number; imgPerSec: number; report: string;
  /** how top-1 is read out of the student (Co-advise: the mean of three heads, …) */
  readout: string;
}

export { NonFiniteError, RunDirError };
export type { EvalResult };

export async function train(config: string | object | null, opts: TrainOptions = {}): Promise<TrainSummary> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  // ---- configuration and run directory -------------------------------------------------------
  // Nothing of a run (config.json, config.hash, records, checkpoints) changes before every check
  // has passed; a resumed run is locked before anything in it is read for writing.
  let cfg: Config, source: string;
  if (opts.resume) {
    const runDir = path.resolve(opts.resume);
    ({ config: cfg, source } = loadResumedConfig(runDir, opts.set ?? []));
    if (isFinished(runDir)) {
      // a finished run is left as it is: its summary and report stay those it finished with
      log(`${runDir} finished before (summary.json); nothing to resume, the run is left as it is`);
      return JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as TrainSummary;
    }
  } else {
    if (config === null) throw new ConfigError('train: give a config (file or object) or resume a run');
    ({ config: cfg, source } = loadConfig(config, opts.set ?? []));
  }
  const device = cfg.run.device;
  if (device !== 'cpu' && !cudaAvailable()) throw new ConfigError(`${source}: run.device: '${device}' asked for, but this civet build has no CUDA device (build with LIBTORCH pointing at a CUDA libtorch)`);
  if (cfg.precision === 'bf16' && !bf16Supported(device)) {
    throw new ConfigError(`${source}: precision: bf16 needs a CUDA device or a CPU with AVX-512 BF16/AMX; this ${device} has neither (use fp32)`);
  }
  const amp = { enabled: cfg.precision === 'bf16', device: (device === 'cpu' ? 'cpu' : 'cuda') as 'cpu' | 'cuda', dtype: 'bfloat16' as const };
  // ---- data parallel (train/ddp.ts): a worker of a distributed launch joins its group here --------
  const dp = DataParallel.fromEnv(device);
  try {
    if (dp && !dp.isMain) {
      // ranks other than 0 write nothing: rank 0 claims (or locks) the run directory, writes its
      // config.json and tells the others where it is; they train from that same config
      let run;
      try { run = dp.shareRun(null); } catch (e: any) { throw new RunDirError(e.message); }
      const own = loadRunConfig(run.dir).config;
      const follow = { ...opts, resume: run.resume ? run.dir : undefined, restart: run.restart };
      return await trainLocked(own, path.join(run.dir, 'config.json'), run.dir, configHash(own), amp, follow, log, dp);
    }
    return await trainMain(cfg, source, config, amp, opts, log, dp);
  } catch (e: any) {
    dp?.shareFailure(String(e?.message ?? e));
    throw e;
  } finally {
    dp?.destroy();
  }
}

async function trainMain(cfg: Config, source: string, config: string | object | null, amp: { enabled: boolean; device: 'cpu' | 'cuda'; dtype: 'bfloat16' }, opts: TrainOptions, log: (l: string) => void, dp: DataParallel | null): Promise<TrainSummary> {
  let runDir: string, release: () => void;
  // Paths in a config are relative to its file; the run's config.json stores them absolute, so
  // --resume and `civet eval` work from any directory.
  const baseDir = opts.baseDir ? path.resolve(opts.baseDir) : typeof config === 'string' ? path.dirname(path.resolve(config)) : null;
  if (!opts.resume) {
    if (baseDir === null && hasRelativePaths(cfg)) throw new ConfigError(`${source}: a config object with relative paths needs TrainOptions.baseDir to resolve them against`);
    const base = path.resolve(opts.out ?? cfg.run.out, cfg.run.name);
    cfg = absolutePaths(cfg, baseDir ?? path.parse(base).root);
    // batchSize is the global batch: it must split evenly over the ranks
    if (dp && cfg.batchSize % dp.worldSize !== 0) throw new ConfigError(`${source}: batchSize: ${cfg.batchSize} is the global batch and must divide by the ${dp.worldSize} ranks`);
    preflight(cfg, source, opts.set ?? []);   // models, method, teachers, data: every mistake before the run folder exists
    // never overwrite a run: a name already taken gets the next free suffix (-2, -3, …)
    ({ runDir, release } = claimNewRunDir(base, { log }));
  } else {
    runDir = path.resolve(opts.resume!);
    release = lockRun(runDir, { breakLock: opts.breakLock, log });
  }
  const hash = configHash(cfg);
  try {
    // the teacher that taught the first part of a run teaches the rest (teacher_files.ts)
    const teachersNow = teacherFiles(cfg);
    const teachersChanged = opts.resume ? teacherFileChanges(runDir, teachersNow) : [];
    if (teachersChanged.length && !opts.restart) {
      throw new RunDirError(`--resume ${runDir}: ${teachersChanged.join('; ')}: the teacher that taught the first part of the run must teach the rest. ` +
        'Put the original file back, or pass --restart to train the run again from the beginning with this teacher');
    }
    if (teachersChanged.length) log(`--restart: ${teachersChanged.join('; ')}; training ${runDir} again from the beginning (removed ${clearRecords(runDir).join(', ') || 'nothing'})`);
    cleanTemporaries(runDir);
    if (!opts.resume) {
      writeFileAtomic(path.join(runDir, 'config.json'), JSON.stringify(cfg, null, 2));
      writeFileAtomic(path.join(runDir, 'config.hash'), hash + '\n');
    }
    if (!opts.resume || teachersChanged.length || recordedTeacherFiles(runDir) === null) recordTeacherFiles(runDir, teachersNow);
    if (dp) { dp.shareRun({ dir: runDir, resume: Boolean(opts.resume), restart: Boolean(opts.restart) }); dp.markShared(); }
    opts.onRunDir?.(runDir);
    return await trainLocked(cfg, source, runDir, hash, amp, opts, log, dp);
  } finally {
    release();
  }
}

async function trainLocked(cfg: Config, source: string, runDir: string, hash: string, amp: { enabled: boolean; device: 'cpu' | 'cuda'; dtype: 'bfloat16' }, opts: TrainOptions, log: (l: string) => void, dp: DataParallel | null = null): Promise<TrainSummary> {
  const device = cfg.run.device;
  const main = !dp || dp.isMain;   // only rank 0 writes (checkpoints, records, summary)
  if (!main) opts = { ...opts, quiet: true };
  // ---- determinism, data, models ---------------------------------------------------------------
  if (cfg.run.deterministic) setNumThreads(1);   // fixed reduction order: bit-exact across runs and resumes on CPU
  else if (cfg.run.threads) setNumThreads(cfg.run.threads);
  manualSeed(cfg.run.seed);
  // reading and decoding the data can take a while before the first step: say so (not with --quiet)
  const tLoad = Date.now(), d = cfg.data;
  if (!opts.quiet) log(`loading data: ${d.dataset}${d.root ? ` from ${d.root}` : ''}${d.subsetPerClass ? ` (${d.subsetPerClass} training images per class)` : ''} …`);
  const { data, teachers, distiller } = await buildRun(cfg, runDir);   // every path is absolute by now
  if (!opts.quiet) log(`loaded ${d.dataset}: train ${data.train.length}, test ${data.test.length} images, ${data.numClasses} classes; student${teachers.length ? ` and ${teachers.length} teacher${teachers.length > 1 ? 's' : ''}` : ''} ready in ${((Date.now() - tLoad) / 1000).toFixed(1)} s`);
  const loader = trainLoader(cfg, data, {
    classPairs: methodEntry(cfg.method.name).batches === 'classPairs',
    dist: dp ? { rank: dp.rank, worldSize: dp.worldSize, batchSize: dp.localBatch(cfg.batchSize) } : undefined,
  });
  const stepsPerEpoch = Math.floor(loader.length / cfg.accumulate);
  if (stepsPerEpoch < 1) throw new ConfigError(`${source}: batchSize ${cfg.batchSize} × accumulate ${cfg.accumulate} is larger than the training set (${data.train.length} images)`);
  const { optimizer, schedule } = buildOptimization(cfg, distiller, stepsPerEpoch);
  const ema = cfg.ema ? new ModelEma(distiller.student, { decay: cfg.ema.decay }) : null;
  const stepper = new Stepper(distiller, optimizer, {
    accumulate: cfg.accumulate, onNonFinite: cfg.numerics.onNonFinite, device, log, clipGrad: cfg.clipGrad ?? 0,
    amp, ema, injectNanAtStep: cfg.numerics.injectNanAtStep ?? undefined,
    lr: (op, ctx) => schedule.applyTo(op, { epoch: ctx.epoch, iteration: ctx.step }),
    sync: dp?.sync,
  });
  // The phases, one after the other through the same loop below: a method's init phase (FSP,
  // RepDistiller pretrain.py) with its own optimizer at a constant learning rate and its own
  // epochs, outside the main schedule (whose epochs and steps count from 0 after it), no EMA
  // updates and no evaluation; then the main run. `step` counts optimizer steps over all phases
  // (records and checkpoints), `epoch` the epochs within the current phase.
  const init = distiller.initPhase();
  const initOptimizer = init ? initPhaseOptimizer(init) : null;
  // the init phase trains a part of the student (FSP: its feature modules), which c10d's Reducer
  // (find_unused_parameters off) would wait on forever; refused rather than run unsynchronised
  if (init && dp) throw new ConfigError(`${source}: method.name: ${cfg.method.name}'s init phase (${init.name}) does not run data parallel yet; train it with one process`);
  const phases: Phase[] = [
    ...(init ? [{
      name: init.name, epochs: init.epochs, optimizer: initOptimizer!, evaluates: false,
      stepper: new Stepper(init, initOptimizer!, { accumulate: cfg.accumulate, onNonFinite: cfg.numerics.onNonFinite, device, log, clipGrad: cfg.clipGrad ?? 0, amp, injectNanAtStep: cfg.numerics.injectNanAtStep ?? undefined }),
    }] : []),
    { name: MAIN_PHASE, epochs: cfg.epochs, optimizer, stepper, evaluates: true },
  ];
  const optimizers = Object.fromEntries(phases.map((ph) => [ph.name, ph.optimizer]));
  const stepsBefore = (i: number) => phases.slice(0, i).reduce((a, ph) => a + ph.epochs * stepsPerEpoch, 0);
  const epochsBefore = (i: number) => phases.slice(0, i).reduce((a, ph) => a + ph.epochs, 0);

  // ---- resume ------------------------------------------------------------------------------
  let step = 0, epoch = 0, phase = 0, bestTop1 = -1, skipped = 0, wallBefore = 0;
  if (opts.resume) {
    const st = resumeRun({ runDir, hash, distiller, optimizers, ema, loader }, { restart: opts.restart, log, writes: main });
    if (st) ({ step, epoch, bestTop1, skippedSteps: skipped, wallTimeSec: wallBefore } = st);
    if (st) phase = phases.findIndex((ph) => ph.name === st.phase);
    if (st) log(`resumed ${runDir} at step ${step} (${phases.length > 1 ? `${st.phase}, ` : ''}epoch ${epoch + 1}/${phases[phase].epochs}) from ${st.dir}`);
    // the config is the run's own (config.json); only a missing or stale hash file is rewritten
    const hashFile = path.join(runDir, 'config.hash');
    if (main && (!fs.existsSync(hashFile) || fs.readFileSync(hashFile, 'utf8').trim() !== hash)) writeFileAtomic(hashFile, hash + '\n');
  }

  if (dp) {
    // every rank must resume at the same step (they read the same checkpoint); then rank 0's
    // weights and buffers go to all, and the gradient synchroniser hooks onto the parameters
    const [sum] = dp.group.sumNumbers([step]);
    if (sum !== step * dp.worldSize) throw new Error(`distributed: the ranks resumed at different steps (rank ${dp.rank} at ${step}, mean ${sum / dp.worldSize})`);
    dp.attach(distiller);
    if (main) log(`data parallel: ${dp.worldSize} ranks (${dp.group.backend}), ${dp.localBatch(cfg.batchSize)} images per rank per micro-batch, gradients by ${dp.gradSync}`);
  }
  const metrics = main ? new MetricsLog(runDir) : null;
  const tb = main ? new EventWriter(runDir) : null;
  let lastEval: EvalResult | null = null;
  let progress = opts.quiet ? null : new Progress({ totalEpochs: phases[phase].epochs, stepsPerEpoch });
  const t0 = Date.now();
  let imgSeen = 0, lastLoss = NaN;

  const checkpoint = (name: 'last' | 'best') => {
    if (dp) { dp.syncBuffers(); dp.barrier(); if (!main) return; }   // written once every rank finished the step
    if (!paramsFinite(distiller)) throw new NonFiniteError(`refusing to write a checkpoint at step ${step}: the weights contain NaN or Inf`);
    const extra = new Map<string, Tensor>();
    const fo = flattenOptimizerState(phases[phase].optimizer.stateDict());
    for (const [k, v] of fo.tensors) extra.set(`opt.${k}`, v);
    if (ema) for (const [k, v] of ema.stateDict()) extra.set(`ema.${k}`, v);
    const rng = getRngState();
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT, step, epoch, phase: phases[phase].name, loader: loader.state(), rng: Array.from(rng.toTypedArray() as Uint8Array),
      // 'best' holds weights only (no optimizer or EMA slots), and its state says so: `civet eval` reads it
      configHash: hash, optimizer: name === 'last' ? fo.meta : null, ema: ema && name === 'last' ? ema.meta() : null, bestTop1, skippedSteps: skipped,
      wallTimeSec: wallBefore + (Date.now() - t0) / 1000,
    };
    rng.dispose();
    writeCheckpoint(runDir, name, { weights: distiller.stateDict(), extra: name === 'last' ? extra : new Map(), state });
  };

  try {
    // ---- epochs ------------------------------------------------------------------------------
    while (phase < phases.length) {
      const ph = phases[phase];
      if (epoch >= ph.epochs) {
        // phase boundary: the next phase starts at its epoch 0 with its own (fresh) optimizer
        phase++; epoch = 0;
        if (phase < phases.length) {
          ema?.set(distiller.student);   // the average starts from what the init phase made
          progress?.finish();
          progress = opts.quiet ? null : new Progress({ totalEpochs: phases[phase].epochs, stepsPerEpoch });
        }
        continue;
      }
      const loaderEpoch = epochsBefore(phase) + epoch, phaseStep0 = stepsBefore(phase);
      distiller.train();
      ph.stepper.restartWindow();
      let inEpoch = Math.floor(loader.state().sampler.position / (cfg.batchSize * cfg.accumulate));
      const tEpoch = Date.now();
      let imgEpoch = 0;
      for await (const b of loader) {
        const ctx = { step: step - phaseStep0, epoch, totalEpochs: ph.epochs, stepsPerEpoch };
        let r: StepResult;
        try { r = ph.stepper.step(b, ctx); } finally { b.x.dispose(); b.y.dispose(); b.soft?.dispose(); }
        const imgs = b.indices.length * (dp ? dp.worldSize : 1);   // images of the global batch
        imgSeen += imgs; imgEpoch += imgs;
        if (r.kind === 'accumulating') continue;
        step++; inEpoch++;
        if (r.kind === 'skipped') { skipped++; continue; }
        const termValues = { vals: r.terms }, lr = r.lr, loss = r.loss;
        lastLoss = loss;
        progress?.update({ epoch, step: inEpoch, loss, images: imgs * cfg.accumulate });
        if (step % cfg.log.everySteps === 0) {
          const ips = imgEpoch / Math.max(1e-3, (Date.now() - tEpoch) / 1000);
          metrics?.append({ kind: 'train', step, epoch, loss, terms: termValues.vals, lr, imgPerSec: ips, ...(ph.evaluates ? {} : { phase: ph.name }) });
          tb?.addScalars({ 'train/loss': loss, 'train/lr': lr, ...Object.fromEntries(Object.entries(termValues.vals).map(([k, v]) => [`train/${k}`, v])) }, step);
        }
        if (cfg.checkpoint.everySteps && step % cfg.checkpoint.everySteps === 0 && inEpoch < stepsPerEpoch) checkpoint('last');
        if (inEpoch >= stepsPerEpoch) break;  // dropped remainder of an accumulation window
      }
      // a `break` above leaves the loader mid-epoch: move it to the next epoch explicitly
      if (loader.state().sampler.epoch === loaderEpoch) loader.setEpoch(loaderEpoch + 1);
      epoch++;
      if (!ph.evaluates) progress?.log(`${ph.name}: epoch ${epoch}/${ph.epochs}, loss ${lastLoss.toFixed(4)}`);
      else if (epoch % cfg.eval.everyEpochs === 0 || epoch === cfg.epochs) {
        dp?.syncBuffers();   // every rank evaluates rank 0's replica: the same result, the same decisions
        const r = evaluateRun(distiller, cfg, data, device);
        if (dp) [r.top1, r.top5, r.loss, r.ece] = dp.fromMain([r.top1, r.top5, r.loss, r.ece]);
        lastEval = r;
        const rec: Record<string, unknown> = { kind: 'eval', epoch: epoch - 1, step, ...r };
        if (ema) rec.top1Ema = ema.withAveraged(distiller.student, () => evaluateRun(distiller, cfg, data, device).top1);
        metrics?.append(rec as any);
        tb?.addScalars({ 'eval/top1': r.top1, 'eval/top5': r.top5, 'eval/loss': r.loss, 'eval/ece': r.ece }, step);
        progress?.log(`epoch ${epoch}/${cfg.epochs}: top-1 ${(100 * r.top1).toFixed(2)}%, top-5 ${(100 * r.top5).toFixed(2)}%, loss ${r.loss.toFixed(4)}, ECE ${r.ece.toFixed(4)}`);
        if (r.top1 > bestTop1) { bestTop1 = r.top1; checkpoint('best'); }
      }
      checkpoint('last');
    }
  } finally {
    progress?.finish();
    metrics?.close();
    tb?.close();
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
    readout: methodReadout(cfg.method.name, cfg.method.options),
  };
  if (main) writeFileAtomic(path.join(runDir, 'summary.json'), JSON.stringify(summary, null, 2));
  void lastLoss;
  distiller.dispose();
  for (const t of teachers) if ('dispose' in t && typeof (t as any).dispose === 'function') (t as any).dispose();
  ema?.dispose();
  optimizer.dispose?.();
  initOptimizer?.dispose?.();
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

export function diffKeys(a: any, b: any, at = ''): [string, unknown, unknown][] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => diffKeys(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [[at, a, b]];
}

/** One training phase of a run: a method's init phase or the main run (its name: MAIN_PHASE). */
interface Phase { name: string; epochs: number; optimizer: Optimizer<any>; stepper: Stepper; evaluates: boolean }
const MAIN_PHASE = 'main';

/** the optimizers by phase name: a checkpoint holds the state of its phase's */
interface ResumeTarget { runDir: string; hash: string; distiller: Distiller; optimizers: Record<string, Optimizer<any>>; ema: ModelEma | null; loader: DataLoader }
interface Resumed { dir: string; step: number; epoch: number; phase: string; bestTop1: number; skippedSteps: number; wallTimeSec: number }

/**
 * Restores the training state from the newest usable checkpoint (`last`, else `prev`) and cuts the
 * run's records back to its step. Restoring is part of the check: a generator, loader, weight or
 * optimizer state that does not fit is damage of that checkpoint, and the next one is tried. With
 * no checkpoint at all the run starts from the beginning; with checkpoints that are all unusable
 * it is refused with the reasons, unless `restart`.
 */
function resumeRun(t: ResumeTarget, o: { restart?: boolean; log: (l: string) => void; writes?: boolean }): Resumed | null {
  // a data-parallel rank other than 0 reads the checkpoint but leaves the records to rank 0
  const writes = o.writes ?? true;
  if (!['last', 'prev'].some((n) => fs.existsSync(path.join(t.runDir, 'checkpoints', n)))) {
    const removed = writes ? clearRecords(t.runDir) : [];
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
      if (writes) truncateRecords(t.runDir, st.step, o.log);
      return { dir: chosen.dir, step: st.step, epoch: st.epoch, phase: st.phase ?? MAIN_PHASE, bestTop1: st.bestTop1, skippedSteps: st.skippedSteps, wallTimeSec: st.wallTimeSec };
    }
    if (!initial) {
      throw new RunDirError(`${t.runDir}: no usable checkpoint to resume from:\n  ${refused.map((r) => r.reason).join('\n  ')}\n` +
        'pass --restart to train the run again from the beginning (its checkpoints and records are discarded)');
    }
    restoreSnapshot(t, initial);
    const removed = writes ? clearRecords(t.runDir) : [];
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
  part(stateFile, 'loader', () => t.loader.restore(forThisRank(st.loader, t.loader) as any));
  part(modelFile, 'weights', () => t.distiller.loadStateDict(c.data.weights, { source: modelFile }));
  const opt = new Map<string, Tensor>(), emaSd = new Map<string, Tensor>();
  for (const [k, v] of c.data.extra) (k.startsWith('ema.') ? emaSd.set(k.slice(4), v) : opt.set(k.slice(4), v));
  part(stateFile, 'phase', () => {
    if (!t.optimizers[st.phase ?? MAIN_PHASE]) throw new Error(`'${st.phase}' is not a phase of this run (${Object.keys(t.optimizers).join(', ')})`);
  });
  part(extraFile, 'optimizer state', () => {
    if (!st.optimizer) throw new Error('state.json has none');
    t.optimizers[st.phase ?? MAIN_PHASE].loadStateDict(unflattenOptimizerState(opt, st.optimizer as any));
  });
  if (t.ema) part(extraFile, 'EMA state', () => { if (!st.ema) throw new Error('state.json has none'); t.ema!.loadStateDict(emaSd, st.ema); });
}

/** A data-parallel checkpoint holds rank 0's loader state; the ranks move in lockstep (equal
 *  shares, equal batches), so every rank resumes at the same position of its own share. A state of
 *  another world size is left as it is, and refused by the sampler. */
function forThisRank(saved: unknown, loader: DataLoader): unknown {
  const s = saved as { sampler?: { rank?: number; worldSize?: number } } | null;
  const mine = loader.state().sampler;
  if (!s?.sampler || mine.worldSize <= 1 || s.sampler.worldSize !== mine.worldSize) return saved;
  return { ...s, sampler: { ...s.sampler, rank: mine.rank } };
}

interface Snapshot { weights: Map<string, Tensor>; opt: Record<string, ReturnType<Optimizer<any>['stateDict']>>; ema: { sd: Map<string, Tensor>; meta: { updates: number; decay: number } } | null; rng: Tensor; loader: unknown }

const cloneAll = (m: Map<string, Tensor>) => noGrad(() => new Map([...m].map(([k, v]) => [k, v.clone()] as [string, Tensor])));

function snapshotTraining(t: ResumeTarget): Snapshot {
  return {
    weights: cloneAll(t.distiller.stateDict()), opt: Object.fromEntries(Object.entries(t.optimizers).map(([k, o]) => [k, o.stateDict()])),
    ema: t.ema ? { sd: cloneAll(t.ema.stateDict()), meta: t.ema.meta() } : null, rng: getRngState(), loader: t.loader.state(),
  };
}

function restoreSnapshot(t: ResumeTarget, s: Snapshot): void {
  t.distiller.loadStateDict(s.weights);
  for (const [k, o] of Object.entries(t.optimizers)) o.loadStateDict(s.opt[k]);
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
