// Building frozen teachers from a config: a zoo model with safetensors weights (civet/timm or
// torchvision names), a TorchScript file, or the student of a finished civet run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor } from '../tensor';
import { createModel, Classifier } from '../models/registry';
import { loadSafetensors } from '../interop/weights';
import { convertTorchvisionStateDict } from '../interop/torchvision';
import { loadTorchScript } from '../interop/torchscript';
import type { Teacher } from '../distill/distiller';
import type { Config } from './schema';
import type { Normalize } from '../data/batch';
import { withInputConvention, conventionFromMetadata } from './teacher_input';

export interface DataShape { numClasses: number; imgSize: number; inChans: number; /** the data's normalisation (for teachers with their own input convention) */ norm?: Normalize }

export function buildTeacher(t: Config['teachers'][number], i: number, shape: DataShape, baseDir = '.'): Teacher {
  const where = `teachers.${i}`;
  const resolve = (p: string) => path.resolve(baseDir, p);
  if (t.torchscript) {
    const m = loadTorchScript(resolve(t.torchscript));
    return { name: path.basename(t.torchscript), logits: (x: Tensor) => m.logits(x) };
  }
  if (t.run) {
    const runDir = resolve(t.run);
    const cfgFile = path.join(runDir, 'config.json');
    if (!fs.existsSync(cfgFile)) throw new Error(`${where}: '${runDir}' is not a civet run (no config.json)`);
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Config;
    const model = createModel(cfg.student.model, { numClasses: shape.numClasses, imgSize: cfg.data.imgSize, inChans: cfg.data.channels, ...cfg.student.options });
    const file = path.join(runDir, 'checkpoints', t.checkpoint, 'model.safetensors');
    if (!fs.existsSync(file)) throw new Error(`${where}: run '${runDir}' has no ${t.checkpoint} checkpoint (${file})`);
    const { tensors } = loadSafetensors(file);
    // a run's checkpoint holds the distiller: keep the student's weights
    const sd = new Map<string, Tensor>();
    for (const [k, v] of tensors) if (k.startsWith('student.')) sd.set(k.slice('student.'.length), v);
    try { model.loadStateDict(sd, { source: file }); } finally { for (const v of tensors.values()) v.dispose(); }
    (model as any).teacherName = `${cfg.student.model} (run ${cfg.run.name})`;
    return model;
  }
  if (!t.weights) {
    throw new Error(`${where}: teacher '${t.model}' has no weights: give weights (a safetensors file), or use 'run:' to take the student of a trained civet run`);
  }
  const file = resolve(t.weights);
  const { tensors, metadata } = loadSafetensors(file);
  // a file written by civet import records the size, channels and normalisation its weights expect
  const own = conventionFromMetadata(metadata);
  const imgSize = t.imgSize ?? own.imgSize ?? shape.imgSize, inChans = own.inChans ?? shape.inChans;
  let model: Classifier;
  try {
    model = createModel(t.model!, { numClasses: shape.numClasses, ...own.options, imgSize, inChans, ...t.options });
    const sd = t.naming === 'torchvision' ? convertTorchvisionStateDict(t.model!, tensors) : tensors;
    model.loadStateDict(sd, { source: file });
  } finally { for (const v of tensors.values()) v.dispose(); }
  const normalize = t.normalize ?? own.normalize;
  if (normalize || imgSize !== shape.imgSize || inChans !== shape.inChans) {
    if (!shape.norm) throw new Error(`${where}: the teacher's input convention needs the data's normalisation`);
    withInputConvention(model, { normalize: shape.norm, imgSize: shape.imgSize, inChans: shape.inChans }, { normalize: normalize ?? shape.norm, imgSize, inChans });
  }
  return model;
}
