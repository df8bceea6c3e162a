// Tf-KD per-mode defaults (yuanli2333/Teacher-free-Knowledge-Distillation params.json for ResNet18):
// self α 0.95, T 6, multiplier 50; virtual α 0.1, T 20, multiplier 100.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../index';
import { methodDefaults, parseMethodOptions } from '../../registry';

test('tfkd defaults differ per mode: self is not the virtual teacher\'s', () => {
  assert.deepEqual(methodDefaults('tfkd'), { mode: 'virtual', form: 'official', alpha: 0.1, temperature: 20, multiplier: 100, correctProb: 0.99 });
  assert.deepEqual(parseMethodOptions('tfkd', { mode: 'self' }), { mode: 'self', alpha: 0.95, temperature: 6, multiplier: 50, reduction: 'mean' });
  // an explicit value still wins over the mode's default
  assert.equal((parseMethodOptions('tfkd', { mode: 'self', temperature: 4 }) as any).temperature, 4);
  assert.throws(() => parseMethodOptions('tfkd', { mode: 'self', correctProb: 0.9 }), /correctProb/);
});
