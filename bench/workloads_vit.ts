// The vit-ti32 training step, civet's side of shared/reference/torch_bench.py --workload vit-ti32:
// torchvision VisionTransformer(image_size=32, patch_size=4, num_layers=12, num_heads=3,
// hidden_dim=192, mlp_dim=768, num_classes=10), i.e. civet's vit_tiny with 4 px patches at 32×32
// (the same function and parameter count, timm's names), trained on one fixed random batch with
// cross-entropy and AdamW(lr 1e-3, weight decay 0.05 on every parameter, as the reference).
//
//   node dist/bench/workloads_vit.js [--batch 64] [--steps 5] [--warmup 3]
// prints one JSON object with the keys torch_bench.py prints, so the two can be compared.
import { randn, randint, tidy, F, manualSeed, getNumThreads, buildInfo } from '../src/tensor';
import { AdamW } from '../src/optim/adamw';
import { createModel } from '../src/models/registry';
import '../src/models/vit';
import { torchvisionVitParamCount, torchvisionVitOptions, TorchvisionVitArgs } from '../src/models/vit_torchvision';
import { workload, timeSteps, maybeBf16 } from './workloads';

export const VIT_TI32: TorchvisionVitArgs = { image_size: 32, patch_size: 4, num_layers: 12, num_heads: 3, hidden_dim: 192, mlp_dim: 768, num_classes: 10 };

export interface VitTi32 {
  /** forward + cross-entropy + backward + AdamW step, all inside tidy(); returns the loss */
  step: () => number;
  /** civet's parameter count and torchvision's for the same arguments (equal) */
  params: number;
  torchvisionParams: number;
  /** frees the model, the optimizer state and the batch */
  dispose: () => void;
}

export function vitTi32Step(batch: number, seed = 0, device = 'cpu', classes = 10, bf16 = false): VitTi32 {
  manualSeed(seed);
  const args: TorchvisionVitArgs = { ...VIT_TI32, num_classes: classes };
  // (inside tidy: Module.to leaves one stray handle per parameter behind otherwise)
  const model = tidy(() => createModel('vit_tiny', torchvisionVitOptions(args)).to(device).train());
  const opt = new AdamW(model, { lr: 1e-3, weightDecay: 0.05 });
  const x = randn([batch, 3, 32, 32], { device }).keep();
  const y = randint(0, classes, [batch], { device }).keep();
  const step = () => tidy(() => {
    opt.zeroGrad();
    // The forward's own scope frees every activation handle as soon as the loss exists: autograd
    // keeps what backward needs and releases it node by node during backward, as PyTorch does.
    // (With one scope around everything, all activations would live until the step ends, and
    // backward's buffers could not reuse their memory: fresh pages, more page faults.)
    const loss = tidy(() => maybeBf16({ bf16, device }, () => F.cross_entropy(model.call(x), y)));
    loss.backward();
    opt.step();
    return loss.item();
  });
  return {
    step,
    params: model.numParameters(),
    torchvisionParams: torchvisionVitParamCount(args),
    dispose: () => { opt.zeroGrad(); opt.dispose(); model.dispose(); x.dispose(); y.dispose(); },
  };
}

export const vitTi32 = workload('vit-ti32', 'torchvision ViT (32 px, patch 4, 12 × 192) train step, AdamW', (a) => {
  const w = vitTi32Step(a.batch, 0, a.device, a.classes, a.bf16);
  const med = timeSteps(w.step, a.steps, 3);
  const out = { step_ms_median: med * 1e3, images_per_s: a.batch / med, params: w.params, torchvision_params: w.torchvisionParams };
  w.dispose();
  return out;
});

if (require.main === module) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const batch = arg('batch', 64), steps = arg('steps', 5), warmup = arg('warmup', 3);
  const w = vitTi32Step(batch);
  const med = timeSteps(w.step, steps, warmup);
  console.log(JSON.stringify({
    step_ms_median: med * 1e3, images_per_s: batch / med, params: w.params, torchvision_params: w.torchvisionParams,
    workload: 'vit-ti32', batch, threads: getNumThreads(), torch: buildInfo().torch, front_end: 'civet',
  }));
  w.dispose();
}
