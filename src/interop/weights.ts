// Safetensors files ⇄ civet tensors and module state dicts.
import { Tensor, fromBytes, noGrad } from '../tensor';
import type { DType } from '../tensor';
import { readSafetensorsFile, parseSafetensors, writeSafetensorsFile, RawTensor, SafeDType } from './safetensors';
import type { Module, LoadReport } from '../nn/module';

const TO_CIVET: Record<SafeDType, DType> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};
const TO_SAFE: Record<DType, SafeDType> = Object.fromEntries(Object.entries(TO_CIVET).map(([k, v]) => [v, k])) as Record<DType, SafeDType>;

export function rawToTensor(raw: RawTensor): Tensor {
  // the addon copies the bytes, so the file's views may sit at any byte offset
  return fromBytes(raw.data, raw.shape, TO_CIVET[raw.dtype]);
}

export function tensorToRaw(t: Tensor): RawTensor {
  const data = t.toTypedArray();
  return { dtype: TO_SAFE[t.dtype], shape: t.shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Reads every tensor of a safetensors file (validated; errors name the file). Tensors are kept: dispose them. */
export function loadSafetensors(path: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const f = readSafetensorsFile(path);
  return fromContents(f);
}
export function loadSafetensorsBuffer(buf: Uint8Array, source = '<buffer>'): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  return fromContents(parseSafetensors(buf, source));
}
function fromContents(f: { tensors: Map<string, RawTensor>; metadata: Record<string, string> }) {
  const tensors = new Map<string, Tensor>();
  for (const [k, raw] of f.tensors) tensors.set(k, rawToTensor(raw).keep());
  return { tensors, metadata: f.metadata };
}

/** Writes tensors atomically (temporary file, fsync, rename). */
export function saveSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): void {
  const m = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const raws = noGrad(() => [...m].map(([k, t]) => [k, tensorToRaw(t)] as [string, RawTensor]));
  writeSafetensorsFile(path, raws, metadata);
}

/** Loads a safetensors file into a module (strict by default), optionally renaming keys first. */
export function loadWeights(model: Module, path: string, opts: { strict?: boolean; rename?: (sd: Map<string, Tensor>) => Map<string, Tensor> } = {}): LoadReport {
  const { tensors } = loadSafetensors(path);
  const sd = opts.rename ? opts.rename(tensors) : tensors;
  try {
    return model.loadStateDict(sd, { strict: opts.strict, source: path });
  } finally {
    for (const t of tensors.values()) t.dispose();
    if (sd !== tensors) for (const t of sd.values()) t.dispose();
  }
}

export function saveWeights(model: Module, path: string, metadata?: Record<string, string>): void {
  saveSafetensors(path, model.stateDict(), metadata);
}
