// Conformance case 'torchvision/vit': a torchvision VisionTransformer with random weights
// (shared/reference/golden_models.py), loaded into civet's ViT through the name converter and
// compared on eval-mode logits. Requiring this file registers the case with the runner.
import { Tensor, fromTypedArray, noGrad } from '../tensor';
import { registerModelCase } from '../conformance/registry';
import { readSafetensorsFile, toTypedArray, RawTensor } from '../interop/safetensors';
import { convertTorchvisionVit, torchvisionVitOptions, TorchvisionVitArgs } from '../interop/torchvision_vit';
import { VisionTransformer, vitConfig } from './vit';

/** Every tensor of a safetensors file as a civet tensor (F32, F64 and I64 only: what PyTorch state dicts hold). */
export function loadSafetensorsTensors(file: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const toTensor = (name: string, raw: RawTensor): Tensor => {
    if (raw.dtype === 'F32' || raw.dtype === 'F64' || raw.dtype === 'I64') return fromTypedArray(toTypedArray(raw), raw.shape);
    throw new Error(`${file}: tensor ${name} has dtype ${raw.dtype}; expected F32, F64 or I64`);
  };
  try {
    for (const [name, raw] of readSafetensorsFile(file).tensors) out.set(name, toTensor(name, raw));
  } catch (e) {
    for (const t of out.values()) t.dispose();
    throw e;
  }
  return out;
}

/** civet's ViT built as torchvision's VisionTransformer(**args), weights loaded from a torchvision state dict file. */
export function loadTorchvisionVit(args: TorchvisionVitArgs, weightsFile: string): VisionTransformer {
  const model = new VisionTransformer(vitConfig('tiny', torchvisionVitOptions(args)));
  const sd = loadSafetensorsTensors(weightsFile);
  try {
    model.loadStateDict(convertTorchvisionVit(sd), { source: weightsFile });
  } finally {
    for (const t of sd.values()) t.dispose();
  }
  return model;
}

registerModelCase('torchvision/vit', (c, weightsPath, input) => {
  const model = loadTorchvisionVit(c.options as TorchvisionVitArgs, weightsPath).eval();
  try {
    return noGrad(() => model.call(input));
  } finally {
    model.dispose();
  }
});
