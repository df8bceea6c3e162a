// The exported files in onnxruntime-web's WebAssembly backend (what the browser page runs),
// here under Node: ViT, DeiT (distilled), CivT and ResNet, random and after training steps,
// max |Δ logits| ≤ 1e-4 on 32 inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed } from '../tensor';
import { exportOnnx } from './export';
import { checkParity } from './parity';
import { EXPORT_CASES, perturb, trainSteps } from './testing';

const TOL = 1e-4;

for (const name of ['vit_tiny', 'deit_tiny_distilled', 'civt_tiny', 'resnet18']) {
  const c = EXPORT_CASES.find((e) => e.name === name)!;
  test(`onnxruntime-web (wasm) runs the exported ${name} with civet's logits (random init and after 3 training steps)`, async () => {
    manualSeed(0);
    const m = c.build();
    perturb(m);
    let p = await checkParity(m, exportOnnx(m, { inputShape: c.input }).bytes, c.input, { n: 32, backend: 'wasm' });
    assert.ok(p.maxAbsDiff <= TOL && p.maxAbsLogit > 1e-3, `${name} random: max |Δ| ${p.maxAbsDiff}, max |logit| ${p.maxAbsLogit}`);
    m.dispose();
    manualSeed(0);
    const t = c.build();
    trainSteps(t, c.input);
    p = await checkParity(t, exportOnnx(t, { inputShape: c.input }).bytes, c.input, { n: 32, backend: 'wasm' });
    assert.ok(p.maxAbsDiff <= TOL, `${name} trained: max |Δ| ${p.maxAbsDiff} (max |logit| ${p.maxAbsLogit})`);
    t.dispose();
  });
}
