// The rule "a room imports only from below" kept by a check (issue 11). Every non-test .ts file under
// src/ and bench/ is read; each relative import (static import / export-from, import type, require())
// is mapped to its room, and a file importing from a room above its own fails the test with file → import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

// Room levels, bottom to top. A room may import from its own level or below.
export const ROOMS: Record<string, number> = {
  tensor: 0, util: 0,
  nn: 1, optim: 1, data: 1, interop: 1, distributed: 1,
  models: 2,
  distill: 3,
  train: 4,
  report: 5, export: 5,
  experiments: 6, conformance: 6, bench: 6,
  cli: 7,
  index: 8, // src/index.ts, the front door
};

// Violations that live in another engineer's territory. Each entry is "file → import".
// Exceptions to the rule, each with its reason. Empty: keep it that way.
const ALLOWED = new Set<string>([]);

// The room of a path relative to the repository root: src/ROOM/..., bench/... or src/index (the top).
function roomOf(rel: string): string {
  const parts = rel.replace(/\.ts$/, '').split('/');
  if (parts[0] === 'bench') return 'bench';
  if (parts[0] !== 'src') throw new Error(`${rel}: not under src/ or bench/`);
  if (parts.length === 1 || parts[1] === 'index' || parts[1] === 'architecture') return 'index';
  if (!(parts[1] in ROOMS)) throw new Error(`${rel}: room '${parts[1]}' has no level in src/architecture.test.ts`);
  return parts[1];
}

function walk(dir: string, out: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'reference' && e.name !== 'node_modules') walk(p, out); }
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
}

// Specifiers of import / export ... from / import('...') / require('...'), comments stripped first.
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const specs: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[1]);
  return specs;
}

export function violations(): string[] {
  const files: string[] = [];
  walk(path.join(ROOT, 'src'), files);
  walk(path.join(ROOT, 'bench'), files);
  const bad: string[] = [];
  for (const file of files) {
    const rel = path.relative(ROOT, file).split(path.sep).join('/');
    const own = roomOf(rel);
    for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue; // node: and packages are outside the rooms
      const target = path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
      if (!target.startsWith('src') && !target.startsWith('bench')) continue; // package.json and the like
      const room = roomOf(target);
      if (ROOMS[room] > ROOMS[own]) {
        const entry = `${rel} → ${spec}`;
        if (!ALLOWED.has(entry)) bad.push(`${entry} (${own} ${ROOMS[own]} imports ${room} ${ROOMS[room]})`);
      }
    }
  }
  return [...new Set(bad)];
}

test('every room imports only from rooms at its level or below', () => {
  const bad = violations();
  assert.deepEqual(bad, [], `imports from a room above:\n  ${bad.join('\n  ')}`);
});

test('no training run loads the conformance evaluators', () => {
  // distill/, models/ and train/ must not pull in src/conformance (the runner alone imports cases/)
  const loaded = new Set<string>();
  for (const m of ['./train/trainer', './distill', './models']) require(m);
  for (const k of Object.keys(require.cache)) if (k.includes(`${path.sep}conformance${path.sep}`)) loaded.add(path.relative(ROOT, k));
  assert.deepEqual([...loaded], []);
});

test('the check sees static imports, type imports, export-from and require()', () => {
  const src = `import { a } from '../train/x';\nimport type { B } from "../report/html";\nexport { c } from '../cli/y';\nconst d = require('../experiments/z') as typeof import('../experiments/z');\n// import { e } from '../cli/comment';\n`;
  assert.deepEqual(importsOf(src).sort(), ['../cli/y', '../experiments/z', '../experiments/z', '../report/html', '../train/x'].sort());
});

// tsc does not resolve side-effect imports (`import './x'`) and lazy require()s: a moved file leaves
// them pointing nowhere until the module is loaded at run time (the export/import.ts slip after the
// rooms moved). Every relative specifier must name a file that exists.
test('every relative import names a file that exists', () => {
  const files: string[] = [];
  walk(path.join(ROOT, 'src'), files);
  walk(path.join(ROOT, 'bench'), files);
  const missing: string[] = [];
  for (const file of files) {
    for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const base = path.resolve(path.dirname(file), spec);
      const candidates = [base, `${base}.ts`, `${base}.js`, `${base}.json`, path.join(base, 'index.ts')];
      if (!candidates.some((c) => fs.existsSync(c) && fs.statSync(c).isFile())) missing.push(`${path.relative(ROOT, file)} → ${spec}`);
    }
  }
  assert.deepEqual(missing, [], `imports of files that do not exist:\n  ${missing.join('\n  ')}`);
});
