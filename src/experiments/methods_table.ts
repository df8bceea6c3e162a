// The classic-family benchmark: every method under one protocol on Fashion-MNIST — the same
// teacher (trained once per invocation), the same student architecture, the same data, steps,
// optimizer and schedule — over several seeds, with the wall time each run took. Schemes that are
// more than one training (Tf-KD self, TAKD, IFKD with its auxiliary network, data-free synthesis,
// active mixup) count all their stages in their time. `civet methods-table` writes the report.
import * as path from 'node:path';
import { Tensor, F, keep, manualSeed, setNumThreads, fromTypedArray } from '../tensor';
import { loadFashionMnist, stratifiedSubset, gatherBatch } from '../data';
import { imagesToTensor, labelsToTensor, FMNIST_NORM } from '../data/batch';
import { createModel, Classifier } from '../models/registry';
import { createDistiller } from '../distill/registry';
import type { Distiller, DistillBatch } from '../distill/distiller';
import { CrossEntropyOnly } from '../distill/methods/ce';
import { fit as fitSteps, accuracy, FitOptions } from '../train/fit';
import { pairedClassBatches } from '../distill/methods/classic/cs_kd';
import { takdChain, tfkdSelf, activeMixup } from '../train/schemes';
import type { CRD } from '../distill/methods/classic/crd';
import { synthesizeImages, saveImageGrid, bnStatisticsOf, DEEPINVERSION_CIFAR_DEFAULTS } from '../distill/synthesis/deepinversion';
import { SoftTargetStudent } from '../distill/synthesis/active_mixup';
import { Rng } from '../util/rng';
import { batcher, type Data } from '../train/testkit';
import { writeStudyReport, type Study, type StudyGroup } from '../report/html';
import { studyMarkdown, checkOrder } from './study';
import { writeFileAtomic } from '../util/atomic';
import '../models';
import '../distill';

export interface TableProtocol {
  perClass: number;        // training images per class (the subset is the same for every seed)
  teacher: string; student: string; assistant: string;
  teacherSteps: number; steps: number; batch: number; lr: number;
  /** synthesized images for the data-free methods, and their optimisation steps */
  synthImages: number; synthIterations: number;
  /** where grid pictures of synthesized images go (null: none) */
  gridDir: string | null;
  threads: number;
}

export const DEFAULT_PROTOCOL: TableProtocol = {
  perClass: 100, teacher: 'resnet20', student: 'resnet8', assistant: 'resnet14',
  teacherSteps: 600, steps: 250, batch: 64, lr: 0.05, synthImages: 200, synthIterations: 150, gridDir: null, threads: 2,
};

interface Env {
  p: TableProtocol; seed: number;
  /** pictures written so far (synthesized-image grids), for the report to link */
  images: { label: string; file: string }[];
  x: Tensor; y: Tensor; labels: Int32Array; xTest: Tensor; yTest: Tensor;
  teacher: Classifier;
}

const make = (name: string): Classifier => createModel(name, { numClasses: 10, inChans: 1, imgSize: 28 });
const ctxOf = (student: Classifier, teachers: Classifier[]) => ({ student, teachers, numClasses: 10, imgSize: 28, inChans: 1 });

// the tests' sampler (uniform with replacement, dataset indices kept): one batching for both
const randomBatches = (e: Env, seed: number, x = e.x, y = e.y) => batcher({ x, y } as Data, e.p.batch, seed);

/** SGD (momentum 0.9, wd 5e-4) with a cosine schedule; epochs are passes over the subset. */
function fit(e: Env, d: Distiller, steps = e.p.steps, next = randomBatches(e, 1000 + e.seed)): void {
  const spe = Math.max(1, Math.floor(e.y.shape[0] / e.p.batch));
  const o: FitOptions = { steps, lr: e.p.lr, schedule: 'cosine', stepsPerEpoch: spe, totalEpochs: Math.ceil(steps / spe) };
  fitSteps(d, next, o);
  d.eval();
}

function viaMethod(method: string, options: Record<string, unknown> = {}, teacher = true): (e: Env) => (x: Tensor) => Tensor {
  return (e) => {
    const d = createDistiller(method, ctxOf(make(e.p.student), teacher ? [e.teacher] : []), options);
    fit(e, d);
    return (x) => d.predict(x);
  };
}

function dataFree(metric: 'l2' | 'gaussianKL', tag: string): (e: Env) => Promise<(x: Tensor) => Tensor> {
  return async (e) => {
    const { images, targets } = synthesizeImages(e.teacher, {
      ...DEEPINVERSION_CIFAR_DEFAULTS, batchSize: e.p.synthImages, numClasses: 10, shape: [1, 28, 28],
      iterations: e.p.synthIterations, metric, rFeature: metric === 'l2' ? 1 : 0.05, tvL2: 1e-3, seed: e.seed,
    });
    keep(images); keep(targets);
    if (e.p.gridDir && e.seed === 0) {
      const file = path.join(e.p.gridDir, `${tag}_grid.png`);
      await saveImageGrid(images, file, { mean: FMNIST_NORM.mean, std: FMNIST_NORM.std, cols: 20 });
      e.images.push({ label: `${tag.replace(/_/g, ' ')}: the ${e.p.synthImages} synthesized images (seed 0)`, file });
    }
    // KD (labels unused: CE weight 0) on the synthesized images only
    const d = createDistiller('kd', ctxOf(make(e.p.student), [e.teacher]), { ceWeight: 0, kdWeight: 1 });
    fit(e, d, e.p.steps, randomBatches(e, 2000 + e.seed, images, targets));
    return (x) => d.predict(x);
  };
}

/** The methods of the table: label → a run that returns the trained student's predict. */
type Predict = (x: Tensor) => Tensor;
export const TABLE_METHODS: Record<string, (e: Env) => Predict | Promise<Predict>> = {
  'ce (student alone)': viaMethod('ce', {}, false),
  'label smoothing': viaMethod('label_smoothing', {}, false),
  'tfkd virtual': viaMethod('tfkd', { mode: 'virtual' }, false),
  'tfkd self': (e) => {
    const d = tfkdSelf(() => make(e.p.student), { numClasses: 10, imgSize: 28, inChans: 1 }, (s) => fit(e, s));
    return (x) => d.predict(x);
  },
  'cs-kd': (e) => {
    const d = createDistiller('cs_kd', ctxOf(make(e.p.student), []), {});
    const it = pairedClassBatches(e.labels, e.p.batch / 2, 3000 + e.seed);
    fit(e, d, e.p.steps, () => {
      const idx = fromTypedArray(it.next().value as Int32Array).to('int64');
      return { x: e.x.indexSelect(0, idx), y: e.y.indexSelect(0, idx) };
    });
    return (x) => d.predict(x);
  },
  kd: viaMethod('kd'),
  // DKD's warm-up is 20 of 240 epochs; here one epoch of ~16 steps
  dkd: viaMethod('dkd', { warmupEpochs: 1 }),
  // LSKD: the README's CIFAR runs add --logit-stand --base-temp 2 --kd-weight 9 to KD's config
  'kd + lskd': viaMethod('kd', { logitStand: true, temperature: 2, kdWeight: 9 }),
  dist: viaMethod('dist'),
  fitnets: viaMethod('fitnets'),
  at: viaMethod('at'),
  sp: viaMethod('sp'),
  rkd: viaMethod('rkd'),
  pkt: viaMethod('pkt'),
  // FSP's init phase is 30 epochs before the 240 (RepDistiller); here 2 epochs (~30 steps) before the main steps
  fsp: viaMethod('fsp', { initEpochs: 2 }),
  'crd (memory bank)': (e) => {
    const d = createDistiller('crd', ctxOf(make(e.p.student), [e.teacher]), { memory: 'bank', nceK: 256, numData: e.y.shape[0], seed: e.seed }) as CRD;
    d.setLabels(e.labels);
    fit(e, d);
    return (x) => d.predict(x);
  },
  'crd (queue)': viaMethod('crd', { memory: 'queue', nceK: 512 }),
  'overhaul (ofd)': viaMethod('ofd'),
  ifkd: viaMethod('ifkd'),
  'ifkd + auxiliary': (e) => {
    // step 1: teacher → auxiliary (larger, student-style) on the final layer; step 2: auxiliary → student on all layers
    const aux = createDistiller('ifkd', ctxOf(make(e.p.assistant), [e.teacher]), { finalOnly: true });
    fit(e, aux);
    const d = createDistiller('ifkd', ctxOf(make(e.p.student), [aux.student]), {});
    fit(e, d);
    return (x) => d.predict(x);
  },
  'kdcl (min-logit)': viaMethod('kdcl', { mode: 'minLogit', peers: ['resnet8'] }, false),
  'kdcl (linear)': viaMethod('kdcl', { mode: 'linear', peers: ['resnet8'] }, false),
  'kdcl (naive)': viaMethod('kdcl', { mode: 'naive', peers: ['resnet8'] }, false),
  'takd (resnet20 → resnet14 → resnet8)': (e) => {
    const [, student] = takdChain(e.teacher, [
      { model: make(e.p.assistant), lambda: 0.5, temperature: 5 },
      { model: make(e.p.student), lambda: 0.5, temperature: 5 },
    ], (d) => fit(e, d));
    student.eval();
    return (x) => student.call(x);
  },
  bss: viaMethod('bss'),
  'data-free: BN statistics (Haroush)': dataFree('gaussianKL', 'bn_statistics'),
  'data-free: DeepInversion': dataFree('l2', 'deepinversion'),
  'active mixup (black-box)': (e) => {
    const { student } = activeMixup({
      queryTeacher: (x) => F.softmax(e.teacher.call(x), 1), images: e.x, makeStudent: () => make(e.p.student),
      stages: 2, queriesPerStage: 500, maxPairs: 2000, seed: e.seed,
      train: (s, xs, soft, stage) => {
        const rng = new Rng(4000 + 10 * e.seed + stage);
        fit(e, new SoftTargetStudent(s), e.p.steps, () => {
          const idx = fromTypedArray(Int32Array.from({ length: e.p.batch }, () => rng.int(xs.shape[0]))).to('int64');
          return { x: xs.indexSelect(0, idx), y: idx, soft: soft.indexSelect(0, idx) };
        });
      },
    });
    student.eval();
    return (x) => student.call(x);
  },
};

export interface TableRun { method: string; seed: number; top1: number; timeSec: number }

export interface MethodTableResult {
  groups: StudyGroup[]; teacherTop1: number; teacherSec: number; protocol: TableProtocol;
  /** pictures the methods produced (DeepInversion / BN-statistics grids) */
  images: { label: string; file: string }[];
}

/** Trains the teacher, then every method for every seed; `onRun` sees each result as it lands. */
export async function runMethodTable(o: { methods?: string[]; seeds: number[]; protocol?: Partial<TableProtocol>; onRun?: (r: TableRun, i: number, n: number) => void; log?: (l: string) => void }): Promise<MethodTableResult> {
  const p = { ...DEFAULT_PROTOCOL, ...o.protocol };
  const log = o.log ?? (() => {});
  const methods = o.methods ?? Object.keys(TABLE_METHODS);
  for (const m of methods) if (!TABLE_METHODS[m]) throw new Error(`methods-table: unknown method '${m}' (known: ${Object.keys(TABLE_METHODS).join(', ')})`);
  setNumThreads(p.threads);
  manualSeed(0);
  const trainSet = stratifiedSubset(loadFashionMnist(), p.perClass, 0);
  const testSet = loadFashionMnist({ split: 'test' });
  const tr = gatherBatch(trainSet), te = gatherBatch(testSet);
  const base = {
    x: keep(imagesToTensor(tr.images, tr.labels.length, 28, 28, 1, { norm: FMNIST_NORM })), y: keep(labelsToTensor(tr.labels)), labels: tr.labels,
    xTest: keep(imagesToTensor(te.images, te.labels.length, 28, 28, 1, { norm: FMNIST_NORM })), yTest: keep(labelsToTensor(te.labels)),
    images: [] as { label: string; file: string }[],
  };
  const t0 = Date.now();
  // the teacher trains for a minute or more before the first row: say so (long work shows progress)
  log(`training the teacher ${p.teacher} (${p.teacherSteps} steps), then ${methods.length} methods × ${o.seeds.length} seeds …`);
  const teacher = make(p.teacher);
  const teacherEnv: Env = { p, seed: 0, ...base, teacher };
  fit(teacherEnv, new CrossEntropyOnly(teacher), p.teacherSteps);
  teacher.eval();
  const teacherTop1 = accuracy((x) => teacher.call(x), base.xTest, base.yTest, 500);
  const teacherSec = (Date.now() - t0) / 1000;
  log(`teacher ${p.teacher}: top-1 ${(100 * teacherTop1).toFixed(2)}% (${teacherSec.toFixed(0)} s)`);
  const groups: StudyGroup[] = methods.map((m) => ({ name: m, runs: [] }));
  const n = methods.length * o.seeds.length;
  let i = 0;
  for (const seed of o.seeds) {
    for (const [k, m] of methods.entries()) {
      manualSeed(seed);
      const t = Date.now();
      const predict = await TABLE_METHODS[m]({ p, seed, ...base, teacher });
      const timeSec = (Date.now() - t) / 1000;
      const top1 = accuracy(predict, base.xTest, base.yTest, 500);
      groups[k].runs.push({ seed, top1, 'time (s)': timeSec });
      o.onRun?.({ method: m, seed, top1, timeSec }, ++i, n);
    }
  }
  return { groups, teacherTop1, teacherSec, protocol: p, images: base.images };
}

/** The no-KD row every Δ is measured against: the student trained alone with CE. */
export const TABLE_BASELINE = 'ce (student alone)';

export interface MethodTableOptions {
  seeds: number[];
  methods?: string[];
  steps?: number;
  /** the report (.html); its .json and .md are written beside it, synthesized-image grids in its folder */
  out: string;
  /** the command line that made it, recorded in the report */
  madeBy: string;
  log?: (l: string) => void;
  onRun?: (r: TableRun, i: number, n: number) => void;
}

/** Runs the table and writes its study: report (.html), .json and .md beside each other. */
export async function writeMethodTableStudy(o: MethodTableOptions): Promise<{ study: Study; out: string; wallTimeSec: number }> {
  const t0 = Date.now();
  const r = await runMethodTable({
    seeds: o.seeds, methods: o.methods,
    protocol: { steps: o.steps ?? DEFAULT_PROTOCOL.steps, gridDir: path.dirname(o.out) },
    log: o.log, onRun: o.onRun,
  });
  const study = methodTableStudy(r, o.madeBy);
  writeStudyReport(study, o.out);
  const base = o.out.replace(/\.html?$/, '');
  const wallTimeSec = (Date.now() - t0) / 1000;
  writeFileAtomic(`${base}.json`, JSON.stringify({ protocol: r.protocol, seeds: o.seeds, teacherTop1: r.teacherTop1, groups: study.groups, wallTimeSec }, null, 2));
  writeFileAtomic(`${base}.md`, studyMarkdown(study, 'top1'));
  return { study, out: o.out, wallTimeSec };
}

/** The report's study from the table's results: groups, the teacher as a reference, Δ vs CE, images. */
export function methodTableStudy(r: MethodTableResult, madeBy: string): Study {
  const p = r.protocol;
  const teacherGroup = `teacher (${p.teacher}, CE)`;
  const ce = r.groups.find((g) => g.name.startsWith('ce'));
  const kd = r.groups.find((g) => g.name === 'kd');
  const study: Study = {
    title: 'The classic KD family on Fashion-MNIST',
    description:
      `One protocol for every method: teacher ${p.teacher} trained once with CE (${p.teacherSteps} steps; top-1 ${(100 * r.teacherTop1).toFixed(2)}%, ${r.teacherSec.toFixed(0)} s), ` +
      `student ${p.student} from scratch, ${p.perClass} training images per class (the same subset for every seed), ${p.steps} steps of batch ${p.batch}, ` +
      `SGD lr ${p.lr} momentum 0.9 weight decay 5e-4 with a cosine schedule, ${p.threads} libtorch threads; top-1 on all 10,000 test images. ` +
      `Each method uses its paper/official-code defaults, except the epoch-based schedules, scaled to ~16 epochs: DKD's warm-up (1 epoch here, 20 of 240 there) and FSP's first stage (2 epochs here, 30 of 240 there) and CRD's negatives (256 bank / 512 queue for a 1,000-image set). ` +
      `Schemes of several trainings count all of them in their time: Tf-KD self (pre-trained student first), TAKD (assistant ${p.assistant}, then student), IFKD + auxiliary (${p.assistant} first), ` +
      `active mixup (3 students: real images, then 2 stages of 500 queried mixes), data-free (${p.synthImages} images synthesized in ${p.synthIterations} iterations, then KD on them only — no real image is seen). ` +
      `Made by: ${madeBy}`.trim(),
    groups: [{ name: teacherGroup, runs: [{ seed: 0, top1: r.teacherTop1, 'time (s)': r.teacherSec }] }, ...r.groups],
    // checked like a study's claims: a margin within the seeds' spread is inconclusive
    claims: ce && kd ? [checkOrder('Hinton KD beats the student trained alone', [kd.name, ce.name], new Map(r.groups.map((g) => [g.name, g])), 'top1')] : [],
    // Δ against the student trained alone; the teacher is shown, not ranked
    baseline: r.groups.some((g) => g.name === TABLE_BASELINE) ? TABLE_BASELINE : undefined,
    references: [teacherGroup],
    images: r.images,
  };
  return study;
}

export { bnStatisticsOf };
