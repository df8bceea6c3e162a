// exportOnnx(model) → an ONNX file's bytes: the eval-mode forward as an opset-17 graph with a
// dynamic batch, weights as initializers, BatchNorm folded into convolutions, input 'input'
// [batch, C, H, W] (normalised pixels, as the run's eval transform makes them) and output
// 'logits' [batch, classes]; metadata_props carry what a consumer needs to prepare images.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Module } from '../nn/module';
import { ExportContext, ExportOptions } from './context';
import { ExportError } from './graph';
import './rules_nn';
import './rules_models';

export { registerExporter, hasExporter } from './context';
export type { ExportOptions, ModuleExporter } from './context';
export { ExportError } from './graph';

/** What a consumer needs to turn an image file into the model's input (stored as JSON strings). */
export interface OnnxMetadata {
  /** zoo name of the architecture */
  model: string;
  classNames: readonly string[];
  /** per-channel mean/std of the normalisation, in [0, 1] pixel units */
  normalize: { mean: number[]; std: number[] };
  /** the model's input [C, H, W] */
  input: [number, number, number];
  /** the dataset's images: the eval transform decodes to this size and channel count, normalises,
   *  then resizes (bilinear) to `input` and repeats a grey channel when input has 3 */
  source: { channels: number; height: number; width: number };
  readout?: string;
  run?: string;
}

export interface ExportResult {
  bytes: Uint8Array;
  nodes: number;
  initializers: number;
  foldedBatchNorms: number;
}

const VERSION: string = (() => {
  try { return JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version; } catch { return '0'; }
})();

export function metadataProps(md: OnnxMetadata): Record<string, string> {
  const props: Record<string, string> = {
    'civet.model': md.model,
    'civet.class_names': JSON.stringify(md.classNames),
    'civet.normalize': JSON.stringify(md.normalize),
    'civet.input': JSON.stringify(md.input),
    'civet.source': JSON.stringify(md.source),
  };
  if (md.readout) props['civet.readout'] = md.readout;
  if (md.run) props['civet.run'] = md.run;
  return props;
}

/** Parses the metadata_props civet wrote back into OnnxMetadata (null when they are not civet's). */
export function parseMetadata(props: Record<string, string>, source = 'model'): OnnxMetadata | null {
  if (!('civet.class_names' in props)) return null;
  try {
    return {
      model: props['civet.model'],
      classNames: JSON.parse(props['civet.class_names']),
      normalize: JSON.parse(props['civet.normalize']),
      input: JSON.parse(props['civet.input']),
      source: JSON.parse(props['civet.source']),
      readout: props['civet.readout'],
      run: props['civet.run'],
    };
  } catch (e: any) {
    throw new ExportError(`${source}: civet metadata is unreadable (${e.message})`);
  }
}

/** Exports `model` (any module with exporter rules, in practice a zoo classifier) for inputs of
 *  shape [batch, ...inputShape]. The model is put in eval mode for the walk and restored after. */
export function exportOnnx(model: Module, o: { inputShape: [number, number, number]; metadata?: OnnxMetadata; options?: ExportOptions; name?: string }): ExportResult {
  const was = model.training;
  model.eval();
  try {
    const cx = new ExportContext(model, { ...o.options, readout: o.options?.readout ?? o.metadata?.readout });
    const g = cx.g;
    const x = g.input('input', [-1, ...o.inputShape]);
    const y = cx.call(model, x);
    if (y.shape.length !== 2) throw new ExportError(`the model's output has shape [${y.shape.map((d) => (d < 0 ? 'batch' : d))}], expected [batch, classes]`);
    g.output(y, 'logits');
    const folded = g.foldBatchNorms();
    const bytes = g.encode({
      name: o.name ?? o.metadata?.model ?? model.constructor.name,
      producerVersion: VERSION,
      metadata: o.metadata ? metadataProps(o.metadata) : {},
      docString: 'exported by civet from the module tree (eval mode, BatchNorm folded)',
    });
    return { bytes, nodes: g.nodes.length, initializers: g.inits.size, foldedBatchNorms: folded };
  } finally {
    model.train(was);
  }
}
