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
// Other families plug in with registerConverter (the ViT one lives in torchvision_vit.ts).
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

function renameAll<V>(sd: Map<string, V>, arch: string, rename: (k: string) => string | null): Map<string, V> {
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

const RESNET_KEY = /^(conv1|bn1|fc|layer\d+\.\d+\.(conv\d|bn\d|downsample\.[01]))\.(weight|bias|running_mean|running_var|num_batches_tracked)$/;
/** torchvision ResNet → timm ResNet: the same names (checked, so a wrong architecture fails early). */
export function convertResNet<V>(sd: Map<string, V>, arch = 'resnet'): Map<string, V> {
  return renameAll(sd, arch, (k) => (RESNET_KEY.test(k) ? k : null));
}

const REGNET_BLOCK = /^trunk_output\.block(\d+)\.block\d+-(\d+)\.(.+)$/;
const REGNET_PARTS: [RegExp, string][] = [
  [/^proj\.0\./, 'downsample.conv.'],
  [/^proj\.1\./, 'downsample.bn.'],
  [/^f\.a\.0\./, 'conv1.conv.'],
  [/^f\.a\.1\./, 'conv1.bn.'],
  [/^f\.b\.0\./, 'conv2.conv.'],
  [/^f\.b\.1\./, 'conv2.bn.'],
  [/^f\.se\.fc1\./, 'se.fc1.'],
  [/^f\.se\.fc2\./, 'se.fc2.'],
  [/^f\.c\.0\./, 'conv3.conv.'],
  [/^f\.c\.1\./, 'conv3.bn.'],
];
const PARAM_SUFFIX = /^(weight|bias|running_mean|running_var|num_batches_tracked)$/;

/** civet/timm name of one torchvision RegNet key, or null. */
export function torchvisionRegNetKey(k: string): string | null {
  let m: RegExpExecArray | null;
  if ((m = /^stem\.([01])\.(.+)$/.exec(k))) return PARAM_SUFFIX.test(m[2]) ? `stem.${m[1] === '0' ? 'conv' : 'bn'}.${m[2]}` : null;
  if ((m = /^fc\.(weight|bias)$/.exec(k))) return `head.fc.${m[1]}`;
  if ((m = REGNET_BLOCK.exec(k))) {
    for (const [re, to] of REGNET_PARTS) {
      if (re.test(m[3])) {
        const rest = m[3].replace(re, '');
        return PARAM_SUFFIX.test(rest) ? `s${m[1]}.b${Number(m[2]) + 1}.${to}${rest}` : null;
      }
    }
  }
  return null;
}

/** torchvision RegNet (X or Y) → timm RegNet names. */
export function convertRegNet<V>(sd: Map<string, V>, arch = 'regnet'): Map<string, V> {
  return renameAll(sd, arch, torchvisionRegNetKey);
}

/** mmcls RedNet checkpoints (backbone.* + head.fc.*) → civet RedNet; civet-named keys pass through. */
export function convertRedNet<V>(sd: Map<string, V>, arch = 'rednet'): Map<string, V> {
  return renameAll(sd, arch, (k) => (k.startsWith('backbone.') ? k.slice('backbone.'.length) : k));
}

registerConverter('resnet', convertResNet);
registerConverter('regnet_y_', convertRegNet);
registerConverter('regnety_', convertRegNet);
registerConverter('rednet', convertRedNet);

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
