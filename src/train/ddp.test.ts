// Data-parallel training against single-process training: 2 worker processes on localhost (gloo),
// started as a scheduler would start them (torchrun's RANK/WORLD_SIZE/MASTER_* variables), must
// give the per-step losses and final weights of one process with the same global batch, in
// deterministic mode, for both gradient synchronisers (c10d::Reducer during backward, and one
// all-reduce after it), with gradient accumulation (the first micro-batch of each window is not
// synchronised). The student is a one-block ViT: LayerNorm normalises per sample, so the split
// batch sees exactly what the whole one does (batch norm would be per rank by design).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import YAML from 'yaml';
import { ddpTestConfig, lossesOf, weightsOf, maxWeightDiff } from './ddp_testkit';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'bin/civet');

async function freePort(): Promise<number> {
  return new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); }); });
}

function civet(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, OMP_NUM_THREADS: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`civet ${args.join(' ')} (RANK=${env.RANK}) exited ${code}: ${err}`))));
  });
}

test('2 ranks (gloo) train exactly as 1 process with the same global batch: losses and weights within 1e-5, Reducer and after-backward all-reduce', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-ddp-'));
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, YAML.stringify(ddpTestConfig('r')));
  await civet(['train', file, '--quiet', '--out', path.join(dir, 'one')], {});
  const one = path.join(dir, 'one', 'r');
  const ref = lossesOf(one), refW = weightsOf(one);
  assert.equal(ref.length, 10);   // 2 epochs × 80 images / (8 × 2)
  for (const sync of ['reducer', 'allreduce']) {
    const port = String(await freePort()), out = path.join(dir, sync);
    await Promise.all([0, 1].map((r) => civet(['train', file, '--quiet', '--out', out], { RANK: String(r), WORLD_SIZE: '2', LOCAL_RANK: String(r), MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, CIVET_DDP_GRAD_SYNC: sync })));
    // rank 0 alone wrote the run (one run folder, not two)
    assert.deepEqual(fs.readdirSync(out), ['r']);
    const got = lossesOf(path.join(out, 'r'));
    assert.equal(got.length, ref.length);
    got.forEach((l, i) => assert.ok(Math.abs(l - ref[i]) <= 1e-5, `${sync}: step ${i + 1}: loss ${l} vs ${ref[i]} in one process`));
    const d = maxWeightDiff(weightsOf(path.join(out, 'r')), refW);
    assert.ok(d <= 1e-5, `${sync}: final weights differ from one process's by ${d}`);
  }
  // the comparison is not vacuous: the losses move from step to step (training happens)
  assert.ok(new Set(ref.map((l) => l.toFixed(4))).size > 5);
});
