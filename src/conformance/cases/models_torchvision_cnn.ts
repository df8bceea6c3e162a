// Conformance evaluators for the torchvision CNN model cases (shared/golden/README.md, "model"):
// load the case's safetensors (torchvision names), convert to civet names, build the civet model
// with the case's num_classes, and return eval-mode logits without gradients.
import { Tensor, noGrad } from '../../tensor';
import { registerModelCase } from '../registry';
import type { GoldenCase } from '../golden';
import { createModel } from '../../models/registry';
import { convertTorchvisionStateDict, loadSafetensorsStateDict } from '../../interop/torchvision';
import '../../models/resnet';
import '../../models/regnet';

/** torchvision architecture → civet model name. */
export const TORCHVISION_CNNS: Readonly<Record<string, string>> = Object.freeze({
  resnet18: 'resnet18',
  resnet34: 'resnet34',
  resnet50: 'resnet50',
  regnet_y_400mf: 'regnety_400mf',
  regnet_y_600mf: 'regnety_600mf',
});

/** Builds the civet counterpart of a torchvision CNN and loads torchvision-named weights (strict). */
export function torchvisionCnnFromStateDict(arch: string, sd: Map<string, Tensor>, numClasses: number) {
  const name = TORCHVISION_CNNS[arch];
  if (!name) throw new Error(`no civet model for torchvision '${arch}' (known: ${Object.keys(TORCHVISION_CNNS).join(', ')})`);
  const model = createModel(name, { numClasses });
  try {
    model.loadStateDict(convertTorchvisionStateDict(arch, sd), { source: `torchvision ${arch} weights` });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

function evaluate(arch: string) {
  return (c: GoldenCase, weightsPath: string, input: Tensor): Tensor => {
    const numClasses = Number(c.options?.num_classes ?? 1000);
    const sd = loadSafetensorsStateDict(weightsPath);
    let model;
    try {
      model = torchvisionCnnFromStateDict(arch, sd, numClasses);
    } finally {
      for (const t of sd.values()) t.dispose();
    }
    try {
      model.eval();
      return noGrad(() => model.forward(input));
    } finally {
      model.dispose();
    }
  };
}

for (const arch of ['resnet18', 'resnet50', 'regnet_y_400mf']) registerModelCase(`torchvision/${arch}`, evaluate(arch));
