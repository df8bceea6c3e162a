// civet import: a state dict saved in Python (torchvision or timm names, safetensors) → a zoo
// model's weights under civet's names, with a report of what matched. When the class count
// differs from the checkpoint's, the classifier head(s) keep a fresh initialisation (the usual
// first step of fine-tuning a teacher on one's own data). The output file's metadata records the
// architecture, class count and the input convention (normalisation, image size) the weights
// expect, which a teacher in a config picks up (train/teacher_input.ts).
import * as fs from 'node:fs';
import { Tensor } from '../tensor';
import { Linear } from '../nn/layers';
import { createModel, Classifier, ModelOptions } from '../models/registry';
import { convertTorchvisionStateDict } from '../interop/torchvision';
import { timmCheckpointFilter } from '../models/timm_filter';
import { loadSafetensors, saveSafetensors } from '../interop/weights';
import { IMAGENET_NORM } from '../data/transforms';
import type { Normalize } from '../data/batch';
import '../models';

export type ImportSource = 'torchvision' | 'timm';

export interface ImportReport {
  /** civet keys filled from the file */
  matched: number;
  /** source keys with no counterpart in the model (after renaming) */
  unmatched: string[];
  /** model keys the file did not provide (other than a replaced head) */
  missing: string[];
  /** keys present on both sides with different shapes (other than a replaced head) */
  misshaped: { key: string; model: number[]; file: number[] }[];
  /** the classifier head(s) left freshly initialised because the class count differs */
  replacedHead: { modules: string[]; fromClasses: number; toClasses: number } | null;
  notes: string[];
}

export interface ImportResult { model: Classifier; report: ImportReport; numClasses: number; normalize: Normalize; imgSize: number; inChans: number }

export class ImportError extends Error {
  constructor(msg: string) { super(msg); this.name = 'ImportError'; }
}

/** The classifier heads: Linear layers producing the class logits (fc, head, head_dist, head.fc, …). */
export function classifierHeads(m: Classifier): string[] {
  const out: string[] = [];
  for (const [name, mod] of m.namedModules()) if (mod instanceof Linear && mod.outFeatures === m.numClasses && /(^|\.)(fc|head|head_dist|head_conv|head_inv|classifier)$/.test(name)) out.push(name);
  return out;
}

function rename(from: ImportSource, arch: string, sd: Map<string, Tensor>, unmatched: string[]): Map<string, Tensor> {
  if (from === 'timm') return sd;
  // torchvision: each key through the family's converter on its own, so one unknown key is
  // reported instead of refusing the whole file
  const out = new Map<string, Tensor>();
  for (const [k, v] of sd) {
    try {
      for (const [k2, v2] of convertTorchvisionStateDict(arch, new Map([[k, v]]))) out.set(k2, v2);
    } catch (e: any) {
      if (/no torchvision converter/.test(e.message)) throw new ImportError(`--from torchvision: ${e.message}`);
      unmatched.push(k);
    }
  }
  return out;
}

export function importStateDict(file: string, o: { from: ImportSource; model: string; numClasses?: number; options?: ModelOptions; normalize?: Normalize; imgSize?: number }): ImportResult {
  if (!fs.existsSync(file)) throw new ImportError(`${file}: no such file`);
  let tensors: Map<string, Tensor>;
  try { ({ tensors } = loadSafetensors(file)); } catch (e: any) { throw new ImportError(e.message); }
  const unmatched: string[] = [];
  const notes: string[] = [];
  try {
    const opts: ModelOptions = { imgSize: o.imgSize ?? 224, ...o.options };
    const sd = rename(o.from, o.model, tensors, unmatched);
    // the checkpoint's class count, from its classifier head under civet's names
    const probe = createModel(o.model, { ...opts, numClasses: o.numClasses ?? 1000 });
    const heads = classifierHeads(probe);
    const srcHead = heads.map((h) => sd.get(`${h}.weight`)).find((t) => t);
    const srcClasses = srcHead ? srcHead.shape[0] : undefined;
    const numClasses = o.numClasses ?? srcClasses ?? 1000;
    let model = probe;
    if (probe.numClasses !== numClasses) { probe.dispose(); model = createModel(o.model, { ...opts, numClasses }); }
    let src = sd;
    if (o.from === 'timm') { const f = timmCheckpointFilter(sd, model); src = f.sd; notes.push(...f.notes); }
    const replace = srcClasses !== undefined && srcClasses !== numClasses;
    const headKeys = new Set(heads.flatMap((h) => [`${h}.weight`, `${h}.bias`]));
    const load = new Map([...src].filter(([k]) => !(replace && headKeys.has(k))));
    const r = model.loadStateDict(load, { strict: false, source: file });
    const report: ImportReport = {
      matched: model.stateDict().size - r.missing.length - r.mismatched.length,
      unmatched: [...unmatched, ...r.unexpected],
      missing: r.missing.filter((k) => !(replace && headKeys.has(k))),
      misshaped: r.mismatched.map((m) => ({ key: m.key, model: m.expected, file: m.got })),
      replacedHead: replace ? { modules: heads, fromClasses: srcClasses!, toClasses: numClasses } : null,
      notes,
    };
    return { model, report, numClasses, normalize: o.normalize ?? IMAGENET_NORM, imgSize: Number(opts.imgSize), inChans: Number(opts.inChans ?? 3) };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** Metadata keys of an imported weights file (read back by the teacher input convention). */
export function importMetadata(r: ImportResult, o: { from: ImportSource; model: string; source: string; options?: ModelOptions }): Record<string, string> {
  return {
    format: 'civet-import',
    'civet.model': o.model,
    'civet.options': JSON.stringify(o.options ?? {}),
    'civet.num_classes': String(r.numClasses),
    'civet.normalize': JSON.stringify(r.normalize),
    'civet.img_size': String(r.imgSize),
    'civet.in_chans': String(r.inChans),
    'civet.from': o.from,
    'civet.source': o.source,
  };
}

export function writeImported(out: string, r: ImportResult, o: Parameters<typeof importMetadata>[1]): void {
  saveSafetensors(out, r.model.stateDict(), importMetadata(r, o));
}
