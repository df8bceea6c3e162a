// The launcher's fault handling with 2 real workers (gloo on localhost): a worker SIGKILLed
// mid-run makes the launcher stop the other and restart both from the last checkpoint, and the
// run ends with the weights of an uninterrupted run; a SIGSTOPped (hung) worker brings the group
// down within the configured timeout, with an error naming the failed collective.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { launch } from './launch';
import { ddpTestConfig, weightsOf, maxWeightDiff, lossesOf } from '../train/ddp_testkit';

process.env.OMP_NUM_THREADS = '1';

/** Resolves once rank 0 has logged `steps` training steps in the (only) run under `out`. */
function whenSteps(out: string, steps: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      try {
        const [name] = fs.readdirSync(out);
        if (name && lossesOf(path.join(out, name)).length >= steps) { clearInterval(t); resolve(); }
      } catch { /* not yet */ }
    }, 10);
  });
}

// long enough (80 steps) to be killed in the middle
const cfg = ddpTestConfig('k', { epochs: 8, accumulate: 1, checkpoint: { everySteps: 3 } });

test('SIGKILL of one of 2 workers: the launcher restarts both from the last checkpoint; final weights equal an uninterrupted run', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-launch-'));
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, YAML.stringify(cfg));
  const quiet = () => {};
  assert.equal(await launch({ trainArgs: [file, '--quiet', '--out', path.join(dir, 'whole')], nproc: 2, log: quiet }), 0);
  const logs: string[] = [];
  const out = path.join(dir, 'killed');
  let killedAt = -1;
  const code = await launch({
    trainArgs: [file, '--quiet', '--out', out], nproc: 2, maxRestarts: 1, timeoutMs: 20_000, log: (l) => logs.push(l),
    onStart: (children, attempt) => {
      if (attempt === 0) void whenSteps(out, 20).then(() => { killedAt = lossesOf(path.join(out, 'k')).length; children[1].kill('SIGKILL'); });
    },
  });
  const text = logs.join('\n');
  assert.equal(code, 0, text);
  assert.ok(killedAt >= 20 && killedAt < 80, `killed mid-run (at step ${killedAt})`);
  assert.match(text, /worker 1 was killed by SIGKILL; stopping the other workers/);
  assert.match(text, /restarting all workers from the last checkpoint of .*killed\/k \(restart 1 of 1\)/);
  assert.match(text, /resumed .* at step \d+/);
  const d = maxWeightDiff(weightsOf(path.join(out, 'k')), weightsOf(path.join(dir, 'whole', 'k')));
  assert.ok(d <= 1e-6, `restarted run's final weights differ from the uninterrupted run's by ${d}`);
  // the records were cut back to the checkpoint: one loss per step, as in the uninterrupted run
  assert.equal(lossesOf(path.join(out, 'k')).length, 80);
});

test('a SIGSTOPped worker ends the group within the timeout with a clear error', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-launch-'));
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, YAML.stringify(cfg));
  const logs: string[] = [];
  const out = path.join(dir, 'hung');
  const timeoutMs = 3_000;
  let stoppedAt = 0;
  const code = await launch({
    trainArgs: [file, '--quiet', '--out', out], nproc: 2, maxRestarts: 0, timeoutMs, log: (l) => logs.push(l),
    onStart: (children) => { void whenSteps(out, 5).then(() => { stoppedAt = Date.now(); children[1].kill('SIGSTOP'); }); },
  });
  const took = Date.now() - stoppedAt;
  const text = logs.join('\n');
  assert.equal(code, 1, text);
  assert.ok(stoppedAt > 0);
  // the timeout, plus the launcher's grace before SIGKILL and process exit
  assert.ok(took < timeoutMs + 6_000, `the group came down ${took} ms after the stop (timeout ${timeoutMs} ms)`);
  assert.match(text, /\[rank 0\] .*distributed: .* on rank 0 of 2 failed \(a peer died, stalled or left; timeout 3000 ms\)/);
  assert.match(text, /worker 0 exited with status 1; stopping the other workers/);
  assert.match(text, /the group is down/);
});

test('launcher usage errors exit 2 before any worker starts', async () => {
  const { spawnSync } = await import('node:child_process');
  const cli = path.resolve(__dirname, '../../../bin/civet');
  const r = spawnSync(process.execPath, [cli, 'train', 'configs/default.yaml', '--nproc', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /civet train: --nproc: expected an integer >= 1, got '0'/);
  const g = spawnSync(process.execPath, [cli, 'train', 'configs/default.yaml', '--nproc', '2', '--grad-sync', 'ring'], { encoding: 'utf8' });
  assert.equal(g.status, 2);
  assert.match(g.stderr, /--grad-sync: expected reducer or allreduce, got 'ring'/);
  // the global batch must split over the ranks: a config error from rank 0, not retried
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-launch-'));
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, YAML.stringify({ ...cfg, batchSize: 9 }));
  const logs: string[] = [];
  assert.equal(await launch({ trainArgs: [file, '--quiet', '--out', path.join(dir, 'o')], nproc: 2, maxRestarts: 2, timeoutMs: 20_000, log: (l) => logs.push(l) }), 2);
  assert.match(logs.join('\n'), /batchSize: 9 is the global batch and must divide by the 2 ranks/);
  assert.match(logs.join('\n'), /configuration or usage error, not restarting/);
  assert.ok(!fs.existsSync(path.join(dir, 'o')), 'no run folder');
});
