// Config files and --set overrides as hostile input: prototype keys refused (issue 16 item 10),
// an alias bomb and an oversized file refused as config errors naming the file, a damaged
// config.json of a run named by its path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyOverrides, loadConfig, loadRunConfig, readConfigFile, ConfigError, MAX_CONFIG_BYTES } from './schema';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-schema-'));
const base = { run: { name: 'a' }, student: { model: 'tiny_cnn' }, optimizer: { name: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 8 };

test('--set cannot reach Object.prototype: __proto__, constructor and prototype are refused', () => {
  for (const s of ['__proto__.epochs=-1', 'constructor.prototype.epochs=-1', 'run.__proto__.x=1', 'a.prototype=1']) {
    assert.throws(() => applyOverrides(base, [s]), (e: any) => e instanceof ConfigError && /is not allowed in a key path/.test(e.message), s);
  }
  assert.throws(() => applyOverrides(base, ['run={__proto__: {polluted: 1}}']), /'__proto__' is not allowed as a key/);
  assert.equal(({} as any).epochs, undefined);
  assert.equal(({} as any).polluted, undefined);
  // sections an override creates have no prototype
  const o = applyOverrides(base, ['new.section.key=1']);
  assert.equal(Object.getPrototypeOf(o.new), null);
});

test('a config file with __proto__ keys is refused, naming the file and key', () => {
  const f = path.join(dir, 'proto.yaml');
  fs.writeFileSync(f, 'run: { name: a }\nstudent: { model: tiny_cnn, options: { __proto__: { width: 4 } } }\n');
  assert.throws(() => readConfigFile(f), (e: any) => e instanceof ConfigError && e.message === `${f}: student.options.__proto__: '__proto__' is not allowed as a key`);
});

test('the billion-laughs YAML is a config error naming the file', () => {
  const f = path.join(dir, 'laughs.yaml');
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  fs.writeFileSync(f, lines.join('\n') + '\n');
  assert.throws(() => loadConfig(f), (e: any) => e instanceof ConfigError && e.message.startsWith(`${f}: invalid YAML: `));
});

test('a config file over the size limit is refused before it is parsed', () => {
  const f = path.join(dir, 'huge.yaml');
  fs.writeFileSync(f, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
  assert.throws(() => readConfigFile(f), (e: any) => e instanceof ConfigError && e.message.startsWith(`${f}: ${MAX_CONFIG_BYTES + 3} bytes is too large`));
});

test("a run's damaged config.json is named by its path", () => {
  const run = path.join(dir, 'run');
  fs.mkdirSync(run);
  const f = path.join(run, 'config.json');
  fs.writeFileSync(f, '{"run": {"name": "a"');
  assert.throws(() => loadRunConfig(run), (e: any) => e instanceof ConfigError && e.message.startsWith(`${f}: invalid JSON`));
  fs.writeFileSync(f, JSON.stringify({ ...base, epochs: -4 }));
  assert.throws(() => loadRunConfig(run), (e: any) => e instanceof ConfigError && e.message.startsWith(`${f}: epochs: expected a positive integer`));
  assert.throws(() => loadRunConfig(path.join(dir, 'none')), /no config\.json/);
});
