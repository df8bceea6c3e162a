// First contact with the CLI: --version, usage errors exit 2 (report of a missing directory,
// bench with a bad workload or count) instead of an empty page or a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main, civetVersion } from './main';

const ROOT = path.resolve(__dirname, '../../..');

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const w1 = process.stdout.write.bind(process.stdout), w2 = process.stderr.write.bind(process.stderr);
  (process.stdout as any).write = (s: string) => { out += s; return true; };
  (process.stderr as any).write = (s: string) => { err += s; return true; };
  try { return { code: await main(argv), out, err }; } finally { (process.stdout as any).write = w1; (process.stderr as any).write = w2; }
}

test('civet --version prints the package version', async () => {
  const v = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  assert.equal(civetVersion(), v);
  const r = await capture(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.out, `civet ${v}\n`);
});

test('civet report of a directory that is not a run exits 2', async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civet-cli-')), 'r.html');
  const r = await capture(['report', '/nonexistent', '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.err, /\/nonexistent: no such directory/);
  assert.equal(fs.existsSync(out), false);
  const e = await capture(['report', os.tmpdir(), '--out', out]);
  assert.equal(e.code, 2);
  assert.match(e.err, /not a civet run directory/);
});

test('bench usage errors exit 2; --help lists the workloads', async () => {
  const u = await capture(['bench', 'no_such_workload']);
  assert.equal(u.code, 2);
  assert.match(u.err, /unknown workload 'no_such_workload'; workloads:\n {2}\S+/);
  const n = await capture(['bench', 'no_such_workload', '--steps', 'x']);
  assert.equal(n.code, 2);
  const h = await capture(['bench', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /Workloads are those of/);
  const workload = /\n {2}(\S+) /.exec(h.out.slice(h.out.indexOf('Workloads')))![1];
  const s = await capture(['bench', workload, '--steps', '0']);
  assert.equal(s.code, 2);
  assert.match(s.err, /--steps must be a positive integer, got '0'/);
});
