// torchvision state dicts → civet's (timm-named) models. Each architecture family registers a
// converter under a name prefix; convertTorchvisionStateDict(arch, sd) picks the longest prefix of
// `arch` that has one. Values are passed through, not copied: the result shares the tensors.
//
//   resnet*            identity (torchvision and timm share conv1, bn1, layerN.M.…, fc)
//   regnet_y_* / regnety_*:
//     stem.0 / stem.1                                   → stem.conv / stem.bn
//     trunk_output.blockS.blockS-J.proj.0 / proj.1      → sS.b(J+1).downsample.conv / .bn
//       ….f.a.0 / f.a.1                                 → sS.b(J+1).conv1.conv / .bn
//       ….f.b.0 / f.b.1                                 → ….conv2.conv / .bn
//       ….f.se.fc1 / f.se.fc2                           → ….se.fc1 / .se.fc2
//       ….f.c.0 / f.c.1                                 → ….conv3.conv / .bn
//     fc                                                → head.fc
//   rednet* (mmcls / d-li14/involution checkpoints, not torchvision): drops `backbone.`, keeps head.fc
//
// Each family's remap lives beside its model (as timm's checkpoint_filter_fn does) and registers
// itself here when the model's file loads: models/resnet.ts, regnet.ts, rednet.ts, vit_torchvision.ts.
import { Tensor, fromTypedArray } from '../tensor';
import type { DType } from '../tensor';
import { readSafetensorsFile, toTypedArray, RawTensor, SafeDType } from './safetensors';

/** Renames one family's state dict; throws naming every key it cannot map. */
export type StateDictConverter = <V>(sd: Map<string, V>, arch: string) => Map<string, V>;

const CONVERTERS = new Map<string, StateDictConverter>();

/** Registers `fn` for architectures whose torchvision name starts with `archPrefix` (replacing any
 *  converter registered under the same prefix). */
export function registerConverter(archPrefix: string, fn: StateDictConverter): void {
  if (!archPrefix) throw new RangeError('registerConverter: empty architecture prefix');
  CONVERTERS.set(archPrefix, fn);
}

/** Prefixes with a converter, sorted. */
export function listConverters(): string[] { return [...CONVERTERS.keys()].sort(); }

/** torchvision names → civet names for `arch` (e.g. 'resnet50', 'regnet_y_400mf'); values shared, not copied. */
export function convertTorchvisionStateDict<V = Tensor>(arch: string, sd: Map<string, V> | Record<string, V>): Map<string, V> {
  let best: string | null = null;
  for (const p of CONVERTERS.keys()) if (arch.startsWith(p) && (best === null || p.length > best.length)) best = p;
  if (best === null) throw new Error(`no torchvision converter for '${arch}' (registered prefixes: ${listConverters().join(', ') || 'none'})`);
  return CONVERTERS.get(best)!(sd instanceof Map ? sd : new Map(Object.entries(sd)), arch);
}

/** Renames every key with `rename`; throws naming the keys it cannot map (null) or that collide. */
export function renameAll<V>(sd: Map<string, V>, arch: string, rename: (k: string) => string | null): Map<string, V> {
  const out = new Map<string, V>();
  const unknown: string[] = [];
  for (const [k, v] of sd) {
    const to = rename(k);
    if (to === null) unknown.push(k);
    else if (out.has(to)) throw new Error(`${arch}: two torchvision keys map to '${to}'`);
    else out.set(to, v);
  }
  if (unknown.length) {
    throw new Error(`${arch}: cannot convert ${unknown.length} torchvision key(s): ${unknown.slice(0, 12).join(', ')}${unknown.length > 12 ? ` and ${unknown.length - 12} more` : ''}`);
  }
  return out;
}

// ---- reading weights ------------------------------------------------------------------------------
const SAFE_TO_DTYPE: Partial<Record<SafeDType, DType>> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

/** One safetensors entry as a civet tensor (copied). */
export function rawToTensor(raw: RawTensor): Tensor {
  const dtype = SAFE_TO_DTYPE[raw.dtype];
  if (!dtype) throw new Error(`rawToTensor: unsupported dtype ${raw.dtype}`);
  return fromTypedArray(toTypedArray(raw), raw.shape, { dtype });
}

/** All tensors of a .safetensors file under their stored names. The caller owns (disposes) them. */
export function loadSafetensorsStateDict(path: string): Map<string, Tensor> {
  const { tensors } = readSafetensorsFile(path);
  const out = new Map<string, Tensor>();
  for (const [k, raw] of tensors) out.set(k, rawToTensor(raw));
  return out;
}
