// c10d::Reducer (DDP's core) over 2 real processes: the gradients it leaves after one armed
// backward must equal the average of the ranks' local gradients, computed here independently
// (local backward, all-gather, mean); with tiny buckets so several all-reduces overlap backward.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { ProcessGroup } from './index';
import { fromTypedArray, manualSeed, randn, noGrad, Tensor } from '../tensor';

async function freePort(): Promise<number> {
  return new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); }); });
}

const vals = (t: Tensor) => Array.from(t.toTypedArray() as Float32Array);

if (process.env.CIVET_REDUCER_TEST_WORKER) {
  const g = ProcessGroup.fromEnv({ timeoutMs: 20_000 })!;
  manualSeed(3);   // the same parameters on both ranks
  const w1 = randn([8, 5]).requiresGrad_(), b1 = randn([8]).requiresGrad_(), w2 = randn([3, 8]).requiresGrad_();
  const params = [w1, b1, w2];
  manualSeed(100 + g.rank);   // different data per rank
  const xs = [randn([4, 5]), randn([4, 5])];
  const loss = (x: Tensor) => x.matmul(w1.t()).add(b1).tanh().matmul(w2.t()).pow(2).mean();
  const red = g.reducer(params, { bucketBytes: 64 });
  const out: { buckets: number; local: number[][]; maxErr: number[]; unusedError?: string } = { buckets: red.buckets, local: [], maxErr: [] };
  for (const x of xs) {
    // local gradients (a backward without prepareForBackward is not synchronised)
    loss(x).backward();
    const local = params.map((p) => p.grad!.clone());
    out.local.push(vals(local[0]).slice(0, 3));
    for (const p of params) p.grad!.zero_();
    const expected = local.map((l) => noGrad(() => g.allGather(l).reduce((a, t) => a.add(t)).div(2)));
    red.prepareForward();
    red.backward(loss(x));
    out.maxErr.push(Math.max(...params.map((p, i) => Math.max(...vals(p.grad!.sub(expected[i]).abs())))));
    for (const p of params) p.grad!.zero_();
  }
  red.destroy();
  // a parameter that gets no gradient without findUnused: the Reducer refuses the next step with
  // its own message, as a JS exception (not an abort)
  const unused = randn([2]).requiresGrad_();
  const red2 = g.reducer([w1, unused], { bucketBytes: 1 << 20 });
  red2.prepareForward();
  red2.backward(xs[0].matmul(w1.t()).sum());
  try { red2.prepareForward(); red2.prepareForBackward([xs[0].matmul(w1.t()).sum()]); } catch (e: any) { out.unusedError = String(e.message).split('\n')[0]; }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
} else {
  test('2 processes: c10d::Reducer leaves the rank-average of the local gradients after backward', async () => {
    const port = await freePort();
    const run = (rank: number) => new Promise<string>((res, rej) => {
      const c = spawn(process.execPath, [__filename], { env: { ...process.env, CIVET_REDUCER_TEST_WORKER: '1', RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), OMP_NUM_THREADS: '1' } });
      let o = '', err = '';
      c.stdout.on('data', (d) => (o += d)); c.stderr.on('data', (d) => (err += d));
      c.on('exit', (code) => (code === 0 ? res(o) : rej(new Error(`rank ${rank} exited ${code}: ${err}`))));
    });
    const [a, b] = (await Promise.all([run(0), run(1)])).map((s) => JSON.parse(s.trim().split('\n').pop()!));
    assert.ok(a.buckets >= 2, `tiny buckets give several: ${a.buckets}`);
    // the ranks' local gradients differ (different data), so the average is a real reduction
    assert.notDeepEqual(a.local[0], b.local[0]);
    for (const r of [a, b]) for (const e of r.maxErr) assert.ok(e < 1e-6, `reducer gradient off the average by ${e}`);
    for (const r of [a, b]) assert.match(r.unusedError ?? '', /finished reduction|unused|did not receive grad/i);
  });
}
