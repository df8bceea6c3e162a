import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from './progress';
import { fmtDuration } from '../util/format';

function sink(isTTY: boolean, columns = 120) {
  const s = { out: '', isTTY, columns, write: (x: string) => ((s.out += x), true) };
  return s;
}

test('fmtDuration', () => {
  assert.equal(fmtDuration(0), '0:00');
  assert.equal(fmtDuration(75), '1:15');
  assert.equal(fmtDuration(3725), '1:02:05');
  assert.equal(fmtDuration(Infinity), '?');
});

test('plain mode prints periodic lines suitable for logs', () => {
  const stream = sink(false);
  let t = 0;
  const p = new Progress({ totalEpochs: 2, stepsPerEpoch: 10, stream, now: () => t, everySteps: 5 });
  for (let e = 0; e < 2; e++) {
    for (let s = 1; s <= 10; s++) {
      t += 1000; // 1 s per step, 32 images per step -> 32 img/s
      p.update({ epoch: e, step: s, loss: 3 - 0.1 * (e * 10 + s), images: 32 });
    }
  }
  p.finish();
  assert.ok(!stream.out.includes('\r'), 'no carriage returns in log mode');
  assert.deepEqual(stream.out.trimEnd().split('\n'), [
    'epoch 1/2 step 1/10 (10%) loss 2.9000 32 img/s ETA 0:19 elapsed 0:01', // first update: time rule
    'epoch 1/2 step 5/10 (50%) loss 2.5000 32 img/s ETA 0:15 elapsed 0:05',
    'epoch 1/2 step 10/10 (100%) loss 2.0000 32 img/s ETA 0:10 elapsed 0:10',
    'epoch 2/2 step 5/10 (50%) loss 1.5000 32 img/s ETA 0:05 elapsed 0:15',
    'epoch 2/2 step 10/10 (100%) loss 1.0000 32 img/s ETA 0:00 elapsed 0:20',
  ]);
});

test('plain mode also prints by time when steps are slow', () => {
  const stream = sink(false);
  let t = 0;
  const p = new Progress({ totalEpochs: 1, stepsPerEpoch: 100, stream, now: () => t, everyMs: 10_000 });
  for (let s = 1; s <= 30; s++) {
    t += 4000;
    p.update({ epoch: 0, step: s });
  }
  // Lines at steps 1, 4 (16 s - 4 s >= 10 s), 7, ... every 3 steps.
  const steps = stream.out.trim().split('\n').map((l) => Number(/step (\d+)\//.exec(l)![1]));
  assert.deepEqual(steps, [1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
});

test('tty mode redraws one line in place, throttled', () => {
  const stream = sink(true, 100);
  let t = 0;
  const p = new Progress({ totalEpochs: 3, stepsPerEpoch: 50, stream, now: () => t });
  for (let s = 1; s <= 50; s++) {
    t += 20; // 50 steps/s; ~10 redraws/s means every 5th step
    p.update({ epoch: 0, step: s, loss: 0.5, images: 64 });
  }
  p.log('eval top1 0.81');
  p.finish();
  const frames = stream.out.split('\r').filter((f) => f.startsWith('epoch'));
  // Redraws: step 1 (first), then every 100 ms (steps 6, 11, ..., 46), epoch end, after log, finish.
  assert.equal(frames.length, 1 + 9 + 1 + 1 + 1);
  const last = frames[frames.length - 1];
  assert.equal(
    last,
    'epoch 1/3 step 50/50 [########################################] loss 0.5000 3200 img/s ETA 0:02\x1b[K\n',
  );
  assert.ok(frames.every((f) => f.replace('\x1b[K', '').trimEnd().length <= 99), 'fits the terminal width');
  assert.ok(stream.out.includes('\r\x1b[Keval top1 0.81\n'), 'log line clears the bar first');
  const mid = frames[2]; // step 11
  assert.match(mid, /^epoch 1\/3 step 11\/50 \[#{9}\.{31}\] loss 0\.5000 3200 img\/s ETA 0:03/);
});

test('a terminal that reports 0 columns gets the bar at the default width, not a 39-character stub', () => {
  const zero = sink(true, 0), wide = sink(true, 100);
  for (const stream of [zero, wide]) {
    const p = new Progress({ totalEpochs: 1, stepsPerEpoch: 10, stream, now: () => 1000 });
    p.update({ epoch: 0, step: 5, loss: 1.5, images: 32 });
    p.finish();
  }
  assert.equal(zero.out, wide.out);
  assert.ok(zero.out.split('\r').every((l) => l.length <= 100 + 4));
  assert.match(zero.out, /loss/);
});
