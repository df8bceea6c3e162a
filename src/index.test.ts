// The front door as a library user meets it: civet installed into a scratch project (npm's file:
// install, which links the package — nothing is downloaded or rebuilt), a 10-line TypeScript script
// importing from 'civet' type-checked by tsc and run: it creates a model and trains one step by
// hand, then one step through train().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(__dirname, '..', '..');

const SCRIPT = `import { createModel, train, F, tidy, randn, randint, SGD } from 'civet';
const model = createModel('tiny_cnn', { numClasses: 10, width: 4, inChans: 1 });
const opt = new SGD(model, { lr: 0.1 });
const loss: number = tidy(() => { const l = F.cross_entropy(model.forward(randn([4, 1, 28, 28])), randint(0, 10, [4])); l.backward(); return l.item(); });
opt.step();
const cfg = { run: { name: 'one-step' }, student: { model: 'tiny_cnn', options: { width: 4 } }, optimizer: { name: 'sgd' as const, lr: 0.1 },
  data: { subsetPerClass: 1, testSubsetPerClass: 1, imgSize: 28, channels: 1 as const }, epochs: 1, batchSize: 10 };
train(cfg, { out: process.argv[2], quiet: true, log: () => {} }).then((s) => {
  console.log(JSON.stringify({ loss, steps: s.steps, top1: s.top1 }));
});
`;

test("npm install of the package; a TypeScript script importing from 'civet' type-checks and trains a step", () => {
  assert.equal(SCRIPT.trim().split('\n').length, 10);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-package-'));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }));
    const t0 = Date.now();
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ROOT], { cwd: dir, stdio: 'pipe' });
    const installSec = (Date.now() - t0) / 1000;
    // a file: install links the package: no copy, no download, no rebuild of the addon
    assert.ok(fs.lstatSync(path.join(dir, 'node_modules', 'civet')).isSymbolicLink(), 'civet is linked, not copied');
    assert.ok(installSec < 20, `npm install took ${installSec} s`);
    fs.writeFileSync(path.join(dir, 'main.ts'), SCRIPT);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'commonjs', strict: true, skipLibCheck: true, outDir: 'out', esModuleInterop: true,
        lib: ['ES2022', 'ESNext.Disposable'], types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      },
      files: ['main.ts'],
    }));
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir, stdio: 'pipe' });
    const out = execFileSync(process.execPath, [path.join(dir, 'out', 'main.js'), path.join(dir, 'runs')], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, CIVET_THREADS: '1' },
    });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    assert.ok(Number.isFinite(r.loss) && r.loss > 0, `hand-written step's loss ${r.loss}`);
    assert.equal(r.steps, 1);
    assert.ok(r.top1 >= 0 && r.top1 <= 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a type error in a script using civet is caught by tsc', () => {
  // the front door carries types: calling createModel with a number for the name must not compile
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-package-'));
  try {
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'civet'));
    fs.writeFileSync(path.join(dir, 'bad.ts'), "import { createModel } from 'civet';\ncreateModel(42);\n");
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, skipLibCheck: true, noEmit: true, module: 'commonjs', target: 'ES2022', lib: ['ES2022', 'ESNext.Disposable'], types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
      files: ['bad.ts'],
    }));
    assert.throws(() => execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir, stdio: 'pipe' }),
      (e: any) => /bad\.ts\(2,13\).*TS2345/.test(String(e.stdout)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
