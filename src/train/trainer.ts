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
import { loadConfig, configHash, Config, ConfigError } from './schema';
import { preflight } from './preflight';
import { trainLoader, evalBatches, RunData } from './data';
import { writeCheckpoint, loadLatestCheckpoint, disposeCheckpoint, cleanTemporaries, CHECKPOINT_FORMAT, CheckpointState } from './checkpoints';
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
}

export interface TrainSummary {
  name: string; runDir: string; method: string; student: string; model: string; teachers: string[];
  bestTop1: number; top1: number; top5: number; ece: number; loss: number; params: number;
  steps: number; epochs: number; skippedSteps: number; wallTimeSec: number; imgPerSec: number; report: string;
}

export { NonFiniteError };
export type { EvalResult };

export async function train(config: string | object | null, opts: TrainOptions = {}): Promise<TrainSummary> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  // ---- configuration and run directory -------------------------------------------------------
  let cfg: Config, source: string, runDir: string;
  if (opts.resume) {
    runDir = path.resolve(opts.resume);
    const file = path.join(runDir, 'config.json');
    if (!fs.existsSync(file)) throw new ConfigError(`--resume ${opts.resume}: not a civet run directory (no config.json)`);
    ({ config: cfg, source } = loadConfig(JSON.parse(fs.readFileSync(file, 'utf8')), opts.set ?? []));
    source = file;
  } else {
    if (config === null) throw new ConfigError('train: give a config (file or object) or resume a run');
    ({ config: cfg, source } = loadConfig(config, opts.set ?? []));
    // never overwrite a run: a name already taken gets the next free suffix (-2, -3, …)
    const base = path.resolve(opts.out ?? cfg.run.out, cfg.run.name);
    runDir = base;
    for (let k = 2; fs.existsSync(path.join(runDir, 'checkpoints')) || fs.existsSync(path.join(runDir, 'summary.json')); k++) runDir = `${base}-${k}`;
    if (runDir !== base) log(`${base} already holds a run (resume it with --resume ${base}); writing this one to ${runDir}`);
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
    cfg = absolutePaths(cfg, baseDir ?? path.parse(path.resolve(runDir)).root);
  }
  preflight(cfg, source, opts.set ?? []);   // models, method, teachers, data: every mistake before the run folder exists
  fs.mkdirSync(runDir, { recursive: true });
  cleanTemporaries(runDir);
  const hash = configHash(cfg);
  writeFileAtomic(path.join(runDir, 'config.json'), JSON.stringify(cfg, null, 2));
  writeFileAtomic(path.join(runDir, 'config.hash'), hash + '\n');

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
  const ck = opts.resume ? loadLatestCheckpoint(runDir, log) : null;
  if (opts.resume && !ck && fs.existsSync(path.join(runDir, 'checkpoints'))) log(`warning: no usable checkpoint in ${runDir}; starting from the beginning`);
  if (ck) {
    const st = ck.data.state;
    if (st.configHash !== hash) throw new ConfigError(`${ck.dir}: the checkpoint was written with another config (hash ${st.configHash}, now ${hash}); --set overrides cannot change a resumed run`);
    distiller.loadStateDict(ck.data.weights, { source: path.join(ck.dir, 'model.safetensors') });
    const opt = new Map<string, Tensor>(), emaSd = new Map<string, Tensor>();
    for (const [k, v] of ck.data.extra) (k.startsWith('ema.') ? emaSd.set(k.slice(4), v) : opt.set(k.slice(4), v));
    optimizer.loadStateDict(unflattenOptimizerState(opt, st.optimizer as any));
    if (ema && st.ema) ema.loadStateDict(emaSd, st.ema);
    setRngState(fromTypedArray(Uint8Array.from(st.rng)));
    loader.restore(st.loader as any);
    step = st.step; epoch = st.epoch; bestTop1 = st.bestTop1; skipped = st.skippedSteps; wallBefore = st.wallTimeSec;
    disposeCheckpoint(ck.data);
    log(`resumed ${runDir} at step ${step} (epoch ${epoch + 1}/${cfg.epochs}) from ${ck.dir}`);
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

function hasRelativePaths(c: Config): boolean {
  const ps = [c.data.root, c.data.valRoot, ...c.teachers.flatMap((t) => [t.weights, t.torchscript, t.run])];
  return ps.some((p) => p !== undefined && !path.isAbsolute(p));
}

function absolutePaths(c: Config, base: string): Config {
  const abs = (p?: string) => (p === undefined ? undefined : path.resolve(base, p));
  return {
    ...c,
    data: { ...c.data, root: abs(c.data.root), valRoot: abs(c.data.valRoot) },
    teachers: c.teachers.map((t) => ({ ...t, weights: abs(t.weights), torchscript: abs(t.torchscript), run: abs(t.run) })),
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
