// The run config checks the method's name and options against the method's own schema at load
// time; a value set by --set is blamed on that --set (the last one of a key, which took effect).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from './schema';

const base = {
  run: { name: 'a' }, student: { model: 'tiny_cnn' }, optimizer: { name: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 8,
  method: { name: 'kd', options: { temperature: 2 } },
};

test('method name and options are checked when the config loads', () => {
  const err = (sets: string[], cfg: object = base) => {
    try { loadConfig(cfg, sets); } catch (e) { assert.ok(e instanceof ConfigError); return (e as Error).message; }
    assert.fail(`accepted ${sets.join(' ')}`);
  };
  assert.equal(err(['method.options.temperature=-1']), '--set method.options.temperature=-1: method.options.temperature: expected a positive number');
  assert.equal(err([], { ...base, method: { name: 'kd', options: { temperature: -1 } } }), '<config object>: method.options.temperature: expected a positive number');
  assert.equal(err(['method.options.temperature=0', 'method.options.temperature=-2']), '--set method.options.temperature=-2: method.options.temperature: expected a positive number');
  assert.match(err(['method.options.kdweight=1']), /^--set method\.options\.kdweight=1: method\.options: unknown key 'kdweight' for method 'kd' \(did you mean 'kdWeight'\?\)/);
  assert.match(err(['method.name=tfkd', 'method.options={mode: self, form: paper}']), /^--set method\.options=\{mode: self, form: paper\}: method\.options: unknown key 'form' for method 'tfkd'/);
  assert.match(err(['method.name=kd_multi']), /^--set method\.name=kd_multi: method\.name: unknown distillation method 'kd_multi'/);
  // options valid for kd are not valid for ce: the file's keys are blamed on the file
  assert.match(err(['method.name=ce']), /^<config object>: method\.options: unknown key 'temperature' for method 'ce'/);
});

test('a valid config keeps the options as written (run hashes unchanged); defaults fill in at create time', () => {
  const { config } = loadConfig(base, ['method.options.kdWeight=0.5']);
  assert.deepEqual(config.method, { name: 'kd', options: { temperature: 2, kdWeight: 0.5 } });
  const noMethod = loadConfig({ ...base, method: undefined }).config;
  assert.deepEqual(noMethod.method, { name: 'ce', options: {} });
});
