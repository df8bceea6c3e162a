// Checks a validated run config against the world before any work starts: the models and their
// options, the method and its teacher count, the teachers' files, their shapes and class counts,
// and the data's files. train() calls it before it creates the run folder, so every mistake is
// one ConfigError (exit 2) listing `file: key.path: message` for each problem — a value set by
// --set is blamed on that --set — and nothing is left behind.
//
// What it does not do: decode the data or load tensors (a teacher's safetensors header is read,
// its data is not), so a file damaged past its header is still caught where it is loaded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createModel, listModels, modelEntry } from '../models/registry';
import { checkModelOptions } from '../models/options';
import { methodEntry, hasMethod, cacheableMethods } from '../distill/registry';
import { convertTorchvisionStateDict } from '../interop/torchvision';
import { FASHION_MNIST_DEFAULT_ROOT, FASHION_MNIST_ENV, CIFAR10_ENV, CIFAR100_ENV } from '../data';
import { didYouMean, issuePath } from '../util/issues';
import { noGrad } from '../tensor';
import { Config, ConfigError, blameSet, validateConfig } from './schema';
import { conventionFromMetadata } from './teacher_input';
import '../models';
import '../distill';

interface Problem { path: (string | number)[]; message: string; /** unknown keys under `path` (for --set blame) */ keys?: string[] }

/** Throws one ConfigError with every problem found; returns the data's class count when all is well. */
export function preflight(cfg: Config, source: string, sets: string[] = []): { numClasses: number | null } {
  const problems: Problem[] = [];
  const add = (p: (string | number)[], message: string, keys?: string[]) => problems.push({ path: p, message, keys });

  const data = checkData(cfg, add);
  const numClasses = data?.numClasses ?? null;
  checkModel(cfg.student.model, cfg.student.options, ['student'], numClasses, add);
  cfg.teachers.forEach((t, i) => checkTeacher(t, ['teachers', i], cfg, numClasses, add));
  if (hasMethod(cfg.method.name)) {
    const [lo, hi] = methodEntry(cfg.method.name).teachers, n = cfg.teachers.length;
    if (n < lo || n > hi) add(['teachers'], `method '${cfg.method.name}' needs ${lo === hi ? lo : `${lo}–${hi}`} teacher(s), got ${n}`);
    // a cache stands in for teacherLogits() only; a method that trains on live teacher features cannot use one
    if (methodEntry(cfg.method.name).teacherCache !== 'logits') {
      cfg.teachers.forEach((t, i) => {
        if (t.cache) add(['teachers', i, 'cache'], `method '${cfg.method.name}' reads the live teacher's features (not only its logits), so it cannot use a teacher-output cache; remove the cache, or use a method that can: ${cacheableMethods().join(', ')}`);
      });
    }
  }
  if (problems.length) {
    throw new ConfigError(problems.map((p) => `${blameSet(p.path, p.keys ?? null, sets) ?? source}: ${issuePath(p.path)}: ${p.message}`).join('\n'));
  }
  return { numClasses };
}

type Add = (p: (string | number)[], message: string, keys?: string[]) => void;

function checkModel(name: string, options: Record<string, unknown>, at: (string | number)[], numClasses: number | null, add: Add): boolean {
  if (!modelEntry(name)) {
    const near = didYouMean(name, listModels());
    add([...at, 'model'], `unknown model '${name}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${listModels().join(', ')}`);
    return false;
  }
  const issues = checkModelOptions(name, options);
  for (const i of issues) add([...at, 'options', ...i.path], i.message, unknownKeysOf(i.message));
  if (numClasses !== null && typeof options.numClasses === 'number' && options.numClasses !== numClasses && issues.length === 0) {
    add([...at, 'options', 'numClasses'], `${options.numClasses} classes, but the data has ${numClasses}`);
  }
  return issues.length === 0;
}

/** The keys an "unknown key 'a', 'b'" message names (so a --set that added one is blamed). */
function unknownKeysOf(message: string): string[] | undefined {
  const m = /^unknown keys? ((?:'[^']*'(?:, )?)+)/.exec(message);
  return m ? [...m[1].matchAll(/'([^']*)'/g)].map((x) => x[1]) : undefined;
}

function checkTeacher(t: Config['teachers'][number], at: (string | number)[], cfg: Config, numClasses: number | null, add: Add): void {
  if (t.torchscript !== undefined) {
    if (!isFile(t.torchscript)) add([...at, 'torchscript'], `no such file: ${t.torchscript}`);
    return;
  }
  if (t.run !== undefined) { checkRunTeacher(t, at, numClasses, cfg.data.dataset, add); return; }
  if (!checkModel(t.model!, t.options, at, null, add)) return;
  if (t.weights === undefined) {
    add([...at, 'weights'], `teacher '${t.model}' has no weights: give weights (a safetensors file), or use 'run:' to take the student of a trained civet run`);
    return;
  }
  if (!isFile(t.weights)) { add([...at, 'weights'], `no such file: ${t.weights}`); return; }
  let header: SafetensorsHeader;
  try { header = readSafetensorsHeader(t.weights); } catch (e: any) { add([...at, 'weights'], e.message); return; }
  if (numClasses === null) return;   // the data's problem is reported already
  // the model the trainer will build, compared tensor by tensor with the file's header
  const own = conventionFromMetadata(header.metadata);
  const opts = { numClasses, ...own.options, imgSize: t.imgSize ?? own.imgSize ?? cfg.data.imgSize, inChans: own.inChans ?? cfg.data.channels, ...t.options };
  let expected: Map<string, number[]>;
  try {
    expected = noGrad(() => {
      const m = createModel(t.model!, opts);
      try { return new Map([...m.stateDict()].map(([k, v]) => [k, v.shape.slice()])); } finally { m.dispose(); }
    });
  } catch (e: any) { add([...at, 'options'], `cannot build teacher '${t.model}': ${e.message}`); return; }
  let shapes = header.shapes;
  if (t.naming === 'torchvision') {
    try { shapes = convertTorchvisionStateDict(t.model!, header.shapes); } catch (e: any) { add([...at, 'naming'], e.message); return; }
  }
  const wrong = [...expected].filter(([k, s]) => shapes.has(k) && !sameShape(shapes.get(k)!, s));
  // a head sized for another class count: every mismatch is a leading dimension equal to ours
  const head = wrong.filter(([k, s]) => s[0] === numClasses && shapes.get(k)![0] !== numClasses && sameShape(shapes.get(k)!.slice(1), s.slice(1)));
  if (wrong.length && head.length === wrong.length) {
    const [k] = head[0];
    add([...at, 'weights'], `the teacher has ${shapes.get(k)![0]} classes (${k} is [${shapes.get(k)}]), but the data (${cfg.data.dataset}) has ${numClasses}`);
    return;
  }
  if (wrong.length) {
    add([...at, 'weights'], `${wrong.length} tensor(s) do not fit '${t.model}' with these options: ${wrong.slice(0, 3).map(([k, s]) => `${k} is [${shapes.get(k)}] in the file, [${s}] in the model`).join('; ')}`);
    return;
  }
  const missing = [...expected.keys()].filter((k) => !shapes.has(k));
  if (missing.length) add([...at, 'weights'], `${missing.length} tensor(s) of '${t.model}' are not in the file (e.g. ${missing.slice(0, 3).join(', ')})${t.naming === 'civet' ? '; torchvision names need naming: torchvision' : ''}`);
}

function checkRunTeacher(t: Config['teachers'][number], at: (string | number)[], numClasses: number | null, dataset: string, add: Add): void {
  const dir = t.run!;
  const file = path.join(dir, 'config.json');
  if (!isFile(file)) { add([...at, 'run'], `'${dir}' is not a civet run (no config.json)`); return; }
  let theirs: Config;
  try { theirs = validateConfig(JSON.parse(fs.readFileSync(file, 'utf8')), file); } catch (e: any) {
    add([...at, 'run'], e instanceof ConfigError ? e.message : `${file}: invalid JSON: ${e.message}`);
    return;
  }
  const ck = path.join(dir, 'checkpoints', t.checkpoint, 'model.safetensors');
  if (!isFile(ck)) add([...at, 'checkpoint'], `run '${dir}' has no ${t.checkpoint} checkpoint (${ck})`);
  const theirClasses = knownClassCount(theirs);
  if (numClasses !== null && theirClasses !== null && theirClasses !== numClasses) {
    add([...at, 'run'], `the teacher run was trained on ${theirClasses} classes (${theirs.data.dataset}), but the data (${dataset}) has ${numClasses}`);
  }
}

/** The class count a config's data has without scanning it (null for an ImageFolder). */
function knownClassCount(c: Config): number | null {
  return c.data.dataset === 'cifar100' ? 100 : c.data.dataset === 'imagefolder' ? (c.data.root ? classDirs(c.data.root)?.length ?? null : null) : 10;
}

/** The data's files are where the loaders will look; the class count the run will have. */
function checkData(cfg: Config, add: Add): { numClasses: number } | null {
  const d = cfg.data;
  switch (d.dataset) {
    case 'fashion-mnist': {
      const root = d.root ?? process.env[FASHION_MNIST_ENV] ?? FASHION_MNIST_DEFAULT_ROOT;
      const names = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
      const absent = names.filter((n) => !isFile(path.join(root, n)) && !isFile(path.join(root, `${n}.gz`)));
      if (absent.length) {
        const from = d.root !== undefined ? '' : process.env[FASHION_MNIST_ENV] !== undefined ? ` (root from $${FASHION_MNIST_ENV})` : ` (the default root; set data.root or $${FASHION_MNIST_ENV})`;
        add(['data', 'root'], `Fashion-MNIST files missing in ${root}${from}: ${absent.join(', ')} (or .gz)`);
        return null;
      }
      return { numClasses: 10 };
    }
    case 'cifar10': case 'cifar100': {
      const ten = d.dataset === 'cifar10';
      const env = ten ? CIFAR10_ENV : CIFAR100_ENV, sub = ten ? 'cifar-10-batches-bin' : 'cifar-100-binary';
      const probe = ten ? 'batches.meta.txt' : 'fine_label_names.txt';
      const files = ten ? [...[1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), 'test_batch.bin'] : ['train.bin', 'test.bin'];
      const given = d.root ?? process.env[env];
      if (given === undefined) { add(['data', 'root'], `${d.dataset} needs data.root (or $${env}): the extracted ${sub} directory`); return null; }
      const dir = [given, path.join(given, sub)].find((c) => isFile(path.join(c, probe)));
      if (dir === undefined) { add(['data', 'root'], `${d.dataset} not found: no ${probe} in ${given} or ${path.join(given, sub)}`); return null; }
      const absent = files.filter((f) => !isFile(path.join(dir, f)));
      if (absent.length) { add(['data', 'root'], `${d.dataset} files missing in ${dir}: ${absent.join(', ')}`); return null; }
      return { numClasses: ten ? 10 : 100 };
    }
    case 'imagefolder': {
      let n: number | null = null;
      for (const key of ['root', 'valRoot'] as const) {
        const p = d[key];
        if (p === undefined) { add(['data', key], `imagefolder needs data.${key} (${key === 'root' ? 'training' : 'evaluation'} images, one folder per class)`); continue; }
        const classes = classDirs(p);
        if (classes === null) add(['data', key], `no such directory: ${p}`);
        else if (classes.length === 0) add(['data', key], `${p} has no class folders (expected ${key}/<class>/<image>)`);
        else if (key === 'root') n = classes.length;
      }
      return n === null ? null : { numClasses: n };
    }
  }
}

function classDirs(root: string): string[] | null {
  try {
    if (!fs.statSync(root).isDirectory()) return null;
    return fs.readdirSync(root).filter((e) => !e.startsWith('.') && isDir(path.join(root, e)));
  } catch { return null; }
}
const isDir = (p: string) => { try { return fs.statSync(p).isDirectory(); } catch { return false; } };
const isFile = (p: string) => { try { return fs.statSync(p).isFile(); } catch { return false; } };
const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

interface SafetensorsHeader { shapes: Map<string, number[]>; metadata: Record<string, string> }

/** Names and shapes from a safetensors header, without reading the data (8-byte LE length, then JSON). */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(8);
    if (size < 8 || fs.readSync(fd, head, 0, 8, 0) !== 8) throw new Error(`${file}: not a safetensors file (${size} bytes)`);
    const n = Number(head.readBigUInt64LE(0));
    if (n > Math.min(size - 8, 100_000_000)) throw new Error(`${file}: not a safetensors file (header length ${n} for a ${size}-byte file)`);
    const text = Buffer.alloc(n);
    fs.readSync(fd, text, 0, n, 8);
    let h: unknown;
    try { h = JSON.parse(text.toString('utf8')); } catch { throw new Error(`${file}: not a safetensors file (its header is not JSON)`); }
    if (h === null || typeof h !== 'object' || Array.isArray(h)) throw new Error(`${file}: not a safetensors file (its header is not a JSON object)`);
    const shapes = new Map<string, number[]>();
    let metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(h as Record<string, any>)) {
      if (k === '__metadata__') { metadata = v ?? {}; continue; }
      if (!v || !Array.isArray(v.shape)) throw new Error(`${file}: tensor '${k}' has no shape in the header`);
      shapes.set(k, v.shape);
    }
    return { shapes, metadata };
  } finally { fs.closeSync(fd); }
}
