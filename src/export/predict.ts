// Classifying image files with a run's student (civet's forward) or an exported .onnx file
// (onnxruntime-node), through the run's eval transform: decode to the dataset's stored size and
// channels, scale to [0, 1], normalise, resize bilinearly to the model's input, repeat a grey
// channel for 3-channel models (train/batch.ts's imagesToTensor, as civet eval does).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type sharpType from 'sharp';
import { Tensor, tidy, noGrad } from '../tensor';
import { imagesToTensor } from '../data/batch';
import { parseMetadata, type OnnxMetadata } from './export';
import { readOnnxSummary, OnnxFileError } from './proto';
import { ortSession } from './parity';
import { loadRunStudent, readoutForward } from './run';

export class InputFileError extends Error {
  constructor(msg: string) { super(msg); this.name = 'InputFileError'; }
}

let sharpMod: typeof sharpType | undefined;
const sharp = (...a: Parameters<typeof sharpType>) => (sharpMod ??= require('sharp') as typeof sharpType)(...a);

/** Decodes one image file to the dataset's stored size and channel count (uint8 HWC). */
export async function decodeForModel(file: string, md: OnnxMetadata): Promise<Uint8Array> {
  const { channels, height, width } = md.source;
  try {
    let img = sharp(file, { failOn: 'truncated' }).removeAlpha();
    const meta = await img.metadata();
    if (meta.height !== height || meta.width !== width) img = img.resize({ height, width, fit: 'fill' });
    img = channels === 1 ? img.greyscale() : img.toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  } catch (e: any) {
    throw new InputFileError(`${file}: not a readable image (${e.message.split('\n')[0]}); civet reads JPEG, PNG and WebP`);
  }
}

/** The model's input batch [N, C, H, W] for image files, as the run's eval transform makes it. */
export async function imageBatch(files: string[], md: OnnxMetadata): Promise<Tensor> {
  const { channels, height, width } = md.source;
  const per = channels * height * width;
  const all = new Uint8Array(per * files.length);
  for (let i = 0; i < files.length; i++) all.set(await decodeForModel(files[i], md), i * per);
  const [C, H] = md.input;
  return imagesToTensor(all, files.length, height, width, channels, { norm: md.normalize, size: H, outChannels: C !== channels ? C : undefined });
}

export interface Prediction { file: string; top: { index: number; label: string; probability: number }[] }

export function topK(logits: Float32Array, n: number, k: number, classNames: readonly string[], files: string[]): Prediction[] {
  const K = logits.length / n;
  const out: Prediction[] = [];
  for (let r = 0; r < n; r++) {
    const row = logits.subarray(r * K, (r + 1) * K);
    const mx = Math.max(...row);
    const e = Array.from(row, (v) => Math.exp(v - mx));
    const z = e.reduce((a, b) => a + b, 0);
    const order = e.map((v, i) => [v / z, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, Math.min(k, K));
    out.push({ file: files[r], top: order.map(([p, i]) => ({ index: i, label: classNames[i] ?? String(i), probability: p })) });
  }
  return out;
}

export interface Predictor { metadata: OnnxMetadata; source: string; logits(x: Tensor): Promise<Float32Array>; close(): Promise<void> }

/** A run directory (civet's forward, best checkpoint) or a civet-exported .onnx file (onnxruntime-node). */
export async function openPredictor(target: string, o: { checkpoint?: 'best' | 'last' } = {}): Promise<Predictor> {
  if (fs.existsSync(target) && fs.statSync(target).isDirectory()) {
    const s = loadRunStudent(target, o.checkpoint);
    const fwd = readoutForward(s.model, s.metadata.readout);
    return {
      metadata: s.metadata, source: `${s.config.run.name} (${s.checkpoint} checkpoint, civet)`,
      async logits(x) { return tidy(() => noGrad(() => fwd(x).contiguous().toTypedArray() as Float32Array)); },
      async close() { s.model.dispose(); },
    };
  }
  let bytes: Uint8Array;
  try { bytes = fs.readFileSync(target); } catch (e: any) { throw new InputFileError(`${target}: cannot read (${e.code ?? e.message}); give a run directory or an .onnx file`); }
  const summary = readOnnxSummary(bytes, target);
  const md = parseMetadata(summary.metadata, target);
  if (!md) throw new OnnxFileError(`${target}: an ONNX model without civet's metadata (class names, normalisation); export it with civet export`);
  let session;
  try { session = await ortSession(bytes); } catch (e: any) { throw new OnnxFileError(`${target}: onnxruntime cannot load it (${e.message.split('\n')[0]})`); }
  return {
    metadata: md, source: `${path.basename(target)} (onnxruntime-node)`,
    async logits(x) { return session.run(tidy(() => x.contiguous().toTypedArray() as Float32Array), [...x.shape]); },
    close: () => session.release(),
  };
}

export async function predictFiles(target: string, files: string[], o: { checkpoint?: 'best' | 'last'; top?: number } = {}): Promise<{ source: string; predictions: Prediction[] }> {
  for (const f of files) if (!fs.existsSync(f)) throw new InputFileError(`${f}: no such file`);
  const p = await openPredictor(target, o);
  try {
    const x = await imageBatch(files, p.metadata);
    try {
      const logits = await p.logits(x);
      return { source: p.source, predictions: topK(logits, files.length, o.top ?? 5, p.metadata.classNames, files) };
    } finally { x.dispose(); }
  } finally {
    await p.close();
  }
}

