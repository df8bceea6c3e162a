// Two real processes on localhost meet over a c10d TCPStore and run gloo collectives; the values
// each rank gets are checked against the sums computed by hand.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { ProcessGroup, envRank } from './index';
import { fromTypedArray } from '../tensor';

async function freePort(): Promise<number> {
  return new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); }); });
}

if (process.env.CIVET_DIST_TEST_HANG) {
  // rank 1 joins, then stalls (as a SIGSTOPped process would); rank 0's all-reduce must fail within the timeout
  const g = ProcessGroup.fromEnv({ timeoutMs: 2_000 })!;
  if (g.rank === 1) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 8_000);
  else {
    const t0 = Date.now();
    try { g.allReduce([fromTypedArray(Float32Array.from([1]))]); process.stdout.write('no error\n'); }
    catch (e: any) { process.stdout.write(JSON.stringify({ ms: Date.now() - t0, msg: String(e.message).split('\n')[0] }) + '\n'); }
  }
  process.exit(0);
} else if (process.env.CIVET_DIST_TEST_WORKER) {
  // worker: rank r holds [r+1, 10(r+1)]; prints what the collectives returned
  const g = ProcessGroup.fromEnv({ timeoutMs: 20_000 })!;
  const r = g.rank;
  const t = fromTypedArray(Float32Array.from([r + 1, 10 * (r + 1)]));
  g.allReduce([t]);
  const b = fromTypedArray(Float32Array.from([r === 0 ? 7 : -1]));
  g.broadcast([b], 0);
  const parts = g.allGather(fromTypedArray(Float32Array.from([r])));
  // gradient of sum(p²) is 2p; rank r's p = [r+1, 2(r+1)], so the average over 2 ranks is [3, 6]
  const p = fromTypedArray(Float32Array.from([r + 1, 2 * (r + 1)])).requiresGrad_();
  p.mul(p).sum().backward();
  g.averageGradients([p]);
  const grad = Array.from(p.grad!.toTypedArray() as Float32Array);
  g.barrier();
  process.stdout.write(JSON.stringify({ r, grad, sum: Array.from(t.toTypedArray() as Float32Array), b: Array.from(b.toTypedArray() as Float32Array), gathered: parts.map((x) => Array.from(x.toTypedArray() as Float32Array)) }) + '\n');
  g.destroy();
} else {
  test('2 processes: all-reduce, broadcast, all-gather, barrier and gradient average over gloo', async () => {
    const port = await freePort();
    const { spawn } = await import('node:child_process');
    const run = (rank: number) => new Promise<string>((res, rej) => {
      const c = spawn(process.execPath, [__filename], { env: { ...process.env, CIVET_DIST_TEST_WORKER: '1', RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), OMP_NUM_THREADS: '1' } });
      let out = '', err = '';
      c.stdout.on('data', (d) => (out += d)); c.stderr.on('data', (d) => (err += d));
      c.on('exit', (code) => (code === 0 ? res(out) : rej(new Error(`rank ${rank} exited ${code}: ${err}`))));
    });
    const outs = (await Promise.all([run(0), run(1)])).map((o) => JSON.parse(o.trim()));
    for (const o of outs) {
      assert.deepEqual(o.sum, [3, 30]);
      assert.deepEqual(o.b, [7]);
      assert.deepEqual(o.gathered, [[0], [1]]);
      assert.deepEqual(o.grad, [3, 6]);
    }
  });

  test('a stalled peer: the all-reduce on the other rank throws within the timeout (2 s), no hang', async () => {
    const port = await freePort();
    const { spawn } = await import('node:child_process');
    const run = (rank: number) => new Promise<string>((res) => {
      const c = spawn(process.execPath, [__filename], { env: { ...process.env, CIVET_DIST_TEST_HANG: '1', RANK: String(rank), WORLD_SIZE: '2', MASTER_PORT: String(port) } });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('exit', () => res(out));
    });
    const [o0] = await Promise.all([run(0), run(1)]);
    const r = JSON.parse(o0.trim());
    assert.ok(r.ms >= 1500 && r.ms < 7_000, `failed after ${r.ms} ms`);
    assert.match(r.msg, /^distributed: allReduce on rank 0 of 2 failed \(a peer died, stalled or left; timeout 2000 ms\): /);
  });

  test('torchrun variables: absent means no group, bad values are named', () => {
    assert.equal(envRank({}), null);
    assert.deepEqual(envRank({ RANK: '1', WORLD_SIZE: '2', MASTER_PORT: '1234' }), { rank: 1, worldSize: 2, localRank: 0, masterAddr: '127.0.0.1', masterPort: 1234 });
    assert.throws(() => envRank({ RANK: 'x', WORLD_SIZE: '2' }), /RANK=x/);
    assert.throws(() => envRank({ RANK: '0' }), /WORLD_SIZE is not set/);
    assert.throws(() => ProcessGroup.create({ rank: 2, worldSize: 2 }), /rank 2 is not in 0..1/);
  });

  test('a peer that never arrives: the rendezvous fails within the timeout with an error, no hang', () => {
    const r = spawnSync(process.execPath, ['-e', `
      const { ProcessGroup } = require(${JSON.stringify(__dirname + '/index.js')});
      try { ProcessGroup.create({ rank: 0, worldSize: 2, masterPort: 0, timeoutMs: 1500 }); console.log('no error'); }
      catch (e) { console.log('error: ' + e.message.split('\\n')[0]); }`], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^error: /);
  });
}
