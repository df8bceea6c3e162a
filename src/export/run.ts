// A finished run's student, ready to export or to classify with: the architecture from the run's
// config, the weights of its best (or last) checkpoint, the class names and the eval transform's
// normalisation, and the inference read-out its method used.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor } from '../tensor';
import { createModel, Classifier } from '../models/registry';
import { loadConfig, ConfigError, type Config } from '../train/schema';
import { readCheckpoint, disposeCheckpoint } from '../train/checkpoints';
import { FMNIST_NORM, type Normalize } from '../data/batch';
import { FASHION_MNIST_CLASSES, loadCifar10, loadCifar100, ImageFolder } from '../data';
import { IMAGENET_NORM, CIFAR_NORM } from '../data/transforms';
import { parseMethodOptions } from '../distill/registry';
import { writeFileAtomic } from '../util/atomic';
import { exportOnnx, type OnnxMetadata, type ExportResult } from './export';
import { checkParity, type Parity } from './parity';
import { writeWebApp, FMNIST_SAMPLES } from './web';
import { saveSafetensors } from '../interop/weights';
import '../models';
import '../distill';

export interface DataInfo { classNames: readonly string[]; norm: Normalize; source: { channels: number; height: number; width: number } }

/** The class names, normalisation and stored image size of a run's data, without reading the
 *  images (train/data.ts's loadRunData makes the same choices; a test holds the two together). */
export function dataInfo(c: Config): DataInfo {
  const d = c.data;
  switch (d.dataset) {
    case 'fashion-mnist': return { classNames: FASHION_MNIST_CLASSES, norm: FMNIST_NORM, source: { channels: 1, height: 28, width: 28 } };
    case 'cifar10': return { classNames: loadCifar10({ split: 'test', root: d.root }).classNames, norm: CIFAR_NORM, source: { channels: 3, height: 32, width: 32 } };
    case 'cifar100': return { classNames: loadCifar100({ split: 'test', root: d.root }).classNames, norm: CIFAR_NORM, source: { channels: 3, height: 32, width: 32 } };
    case 'imagefolder': {
      if (!d.root) throw new ConfigError('data.root: an imagefolder run needs its training folder to name the classes');
      return { classNames: new ImageFolder(d.root, { size: d.imgSize }).classNames, norm: IMAGENET_NORM, source: { channels: 3, height: d.imgSize, width: d.imgSize } };
    }
  }
}

/** The student's read-out under the run's method: the methods whose predict() is not the
 *  student's plain forward (DeiT, Co-advise, CSKD) name theirs in their options. */
export function runReadout(c: Config): string | undefined {
  const own = c.student.options.readout as string | undefined;
  const m = c.method.name;
  if (m !== 'deit' && m !== 'coadvise' && m !== 'cskd') return own;
  const r = String((parseMethodOptions(m, c.method.options) as { readout?: unknown }).readout);
  if (m === 'coadvise') return r === 'mean3' ? 'mean' : r;
  if (m === 'cskd') return r === 'mean3' ? 'cskd_mean3' : r;
  return r;
}

export interface RunStudent {
  model: Classifier;
  config: Config;
  metadata: OnnxMetadata;
  /** the model's input [C, H, W] */
  input: [number, number, number];
  checkpoint: string;
  step: number;
}

export class RunError extends Error {
  constructor(msg: string, readonly exitCode: 1 | 2 = 2) { super(msg); this.name = 'RunError'; }
}

export function readRunConfig(runDir: string): Config {
  const cfgFile = path.join(runDir, 'config.json');
  if (!fs.existsSync(cfgFile)) throw new RunError(`${runDir} is not a civet run (no config.json)`);
  let raw: unknown;
  try { raw = JSON.parse(fs.readFileSync(cfgFile, 'utf8')); } catch (e: any) { throw new RunError(`${cfgFile}: unreadable (${e.message})`); }
  return loadConfig(raw).config;
}

export function loadRunStudent(runDir: string, checkpoint: 'best' | 'last' = 'best'): RunStudent {
  const dir = path.resolve(runDir);
  const config = readRunConfig(dir);
  const info = dataInfo(config);
  const numClasses = info.classNames.length;
  const input: [number, number, number] = [config.data.channels, config.data.imgSize, config.data.imgSize];
  const model = createModel(config.student.model, { numClasses, imgSize: config.data.imgSize, inChans: config.data.channels, ...config.student.options });
  const ckDir = path.join(dir, 'checkpoints', checkpoint);
  if (!fs.existsSync(ckDir)) { model.dispose(); throw new RunError(`${dir}: no ${checkpoint} checkpoint (${ckDir})`, 1); }
  let ck;
  try { ck = readCheckpoint(ckDir, { weightsOnly: true }); } catch (e: any) { model.dispose(); throw new RunError(e.message, 1); }
  // the checkpoint holds the distiller: the student's weights are under `student.`
  const sd = new Map<string, Tensor>();
  for (const [k, v] of ck.weights) if (k.startsWith('student.')) sd.set(k.slice('student.'.length), v);
  try {
    model.loadStateDict(sd, { source: path.join(ckDir, 'model.safetensors') });
  } finally {
    disposeCheckpoint(ck);
  }
  model.eval();
  const readout = runReadout(config);
  return {
    model, config, input, checkpoint, step: ck.state.step,
    metadata: { model: config.student.model, classNames: [...info.classNames], normalize: info.norm, input, source: info.source, readout, run: config.run.name },
  };
}

export interface RunExport extends ExportResult { file: string; parity?: Parity; student: Omit<RunStudent, 'model'> }

/** Writes a run's student as ONNX (atomically), the browser page folder when `web` names one, and,
 *  unless check is false, compares onnxruntime-node's logits with civet's on 32 random inputs. */
export async function exportRun(runDir: string, out: string, o: { checkpoint?: 'best' | 'last'; check?: boolean; web?: string } = {}): Promise<RunExport> {
  const s = loadRunStudent(runDir, o.checkpoint);
  try {
    const r = exportOnnx(s.model, { inputShape: s.input, metadata: s.metadata, name: s.config.run.name });
    writeFileAtomic(out, r.bytes);
    // the browser page (with a few test images to click for Fashion-MNIST runs)
    if (o.web) writeWebApp(o.web, { onnx: r.bytes, metadata: s.metadata, samples: s.config.data.dataset === 'fashion-mnist' ? FMNIST_SAMPLES : null });
    let parity: Parity | undefined;
    if (o.check ?? true) {
      // the run's read-out through the exported graph against civet's forward with the same read-out
      parity = await checkParity(s.model, r.bytes, s.input, { n: 32, forward: readoutForward(s.model, s.metadata.readout) });
    }
    const { model: _m, ...student } = s;
    return { ...r, file: out, parity, student };
  } finally {
    s.model.dispose();
  }
}

/** Writes a run's student weights as a plain safetensors file (the model's own state-dict names,
 *  without the distiller's `student.` prefix), with civet's input convention in its metadata
 *  (civet.normalize, civet.img_size, civet.in_chans, civet.options) so that a config can use it as
 *  a teacher (`{ model, weights }`) and get the input it was trained on. Written atomically. */
export function exportRunWeights(runDir: string, out: string, o: { checkpoint?: 'best' | 'last' } = {}): Omit<RunStudent, 'model'> & { tensors: number } {
  const s = loadRunStudent(runDir, o.checkpoint);
  try {
    const sd = s.model.stateDict();
    saveSafetensors(out, sd, {
      'civet.model': s.config.student.model,
      'civet.normalize': JSON.stringify(s.metadata.normalize),
      'civet.img_size': String(s.config.data.imgSize),
      'civet.in_chans': String(s.config.data.channels),
      'civet.options': JSON.stringify(s.config.student.options ?? {}),
      'civet.run': s.config.run.name,
      'civet.step': String(s.step),
    });
    const { model: _m, ...student } = s;
    return { ...student, tensors: sd.size };
  } finally {
    s.model.dispose();
  }
}

/** civet's eval forward with an explicit read-out (the run's method may pick another head than the model's default). */
export function readoutForward(model: Classifier, readout: string | undefined): (x: Tensor) => Tensor {
  const m = model as any;
  if (!readout || readout === m.readout) return (x) => model.forward(x);
  if ('head_inv' in m) {
    return (x) => { const h = m.forwardHeads(x); return readout === 'mean' ? h.cls.add(h.conv).add(h.inv).div(3) : h[readout]; };
  }
  if (readout === 'cskd_mean3') {
    return (x) => {
      const f = m.forwardFeatures(x);
      return m.head.call(f.select(1, 0)).add(m.head_dist.call(f.select(1, 1))).add(m.head_dist.call(f.slice(1, 2, f.shape[1])).mean(1)).div(3);
    };
  }
  if ('head_dist' in m) return (x) => { const h = m.forwardHeads(x); return readout === 'mean' ? h.cls.add(h.dist).div(2) : h[readout]; };
  return (x) => model.forward(x);
}
