// Studies: a grid of `civet train` runs (variants × seeds) over one base config, with shared
// teachers trained first, pipelines (a variant may learn from another variant's student), a table
// of mean ± std, and claims (orderings of means) checked against the results.
//
// A study file is YAML:
//   study:    { title, description, out, report, seeds: [0, 1, 2], metric: top1, baseline: variant for the Δ column }
//   base:     a civet train config shared by every run (run.name is set per run)
//   teachers: name → overrides of base; trained once each, before the variants
//   variants: name → overrides of base; run once per seed, in the order written
//   claims:   [{ text, order: [a, [b, c], d] }]   mean(a) > every mean in [b, c] > mean(d)
//   gains:    [{ text, method, control }]   method − control per seed, mean ± std (experiments/gains.ts)
// A file with `extends: other.yaml` is merged over that file; an inherited variant set to null is
// dropped. In overrides, a teacher given as the string '@name' is the best checkpoint of teacher `name`
// or of variant `name` at the same seed.
//
// Runs live in <out>/<variant>-s<seed>; a run that finished (summary.json) is reused, one that
// was interrupted is resumed from its last checkpoint, so a study killed at any point continues
// where it stopped when the same command runs again. Only while the run is still the one the study
// asks for: a run whose config differs from the study's (the file or --set was edited) or whose
// teacher file changed since it started (an earlier variant it learns from was retrained) is a new
// run: the old folder is kept as <run>.stale-N and the run trains again, with the differing keys
// printed; --reuse-stale keeps (or resumes) the old run instead. A lock left by a killed run of
// this host is broken with a note.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { fork } from 'node:child_process';
import { z } from 'zod';
import { train, TrainSummary, TrainOptions, absolutePaths, diffKeys } from '../train/trainer';
import { breakDeadLock } from '../train/run_dir';
import { teacherFiles, teacherFileChanges } from '../train/teacher_files';
import { readConfigFile, validateConfig, applyOverrides, loadRunConfig, ConfigError, Config } from '../train/schema';
import { writeStudyReport, writeReport, meanStd, Study, StudyGroup, StudyClaim, ClaimVerdict, claimVerdict, VERDICT_BADGE } from '../report/html';
import { writeFileAtomic } from '../util/atomic';
import { distillationGains, readoutNote } from './gains';
import { gainLines } from '../report/gains';

const Order = z.array(z.union([z.string(), z.array(z.string()).nonempty()])).min(2, 'an order needs at least two entries');

export const StudySchema = z.object({
  study: z.object({
    title: z.string(),
    description: z.string().default(''),
    out: z.string(),
    report: z.string(),
    seeds: z.array(z.number().int().nonnegative()).nonempty().default([0, 1, 2]),
    metric: z.string().default('top1'),
    /** the variant the report's Δ column is measured against (usually the no-KD / CE one) */
    baseline: z.string().optional(),
  }).strict(),
  base: z.record(z.unknown()),
  teachers: z.record(z.record(z.unknown())).default({}),
  variants: z.record(z.record(z.unknown())),
  claims: z.array(z.object({ text: z.string(), order: Order }).strict()).default([]),
  /** distillation gains: a distilled variant against its own architecture without teachers */
  gains: z.array(z.object({ text: z.string(), method: z.string(), control: z.string() }).strict()).default([]),
}).strict();

export type StudyFile = z.infer<typeof StudySchema>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return structuredClone(over);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : structuredClone(v);
  return out;
}

/** Reads a study file (following `extends:`), validates it, and checks every name it refers to. */
export function loadStudy(file: string): { study: StudyFile; dir: string } {
  const abs = path.resolve(file);
  const raw = loadRaw(abs, []);
  // a file that extends another drops an inherited variant or teacher by setting it to null
  for (const k of ['teachers', 'variants']) {
    const m = raw[k];
    if (isObj(m)) for (const [n, v] of Object.entries(m)) if (v === null) delete m[n];
  }
  const r = StudySchema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n'));
  }
  const s = r.data;
  const names = new Set([...Object.keys(s.teachers), ...Object.keys(s.variants)]);
  for (const t of Object.keys(s.teachers)) if (t in s.variants) throw new ConfigError(`${file}: '${t}' is both a teacher and a variant`);
  const order = Object.keys(s.variants);
  for (const [v, o] of Object.entries({ ...s.teachers, ...s.variants })) {
    for (const ref of teacherRefs(o)) {
      if (!names.has(ref)) throw new ConfigError(`${file}: ${v}: teacher '@${ref}' is neither a teacher nor a variant of this study`);
      if (v in s.variants && ref in s.variants && order.indexOf(ref) >= order.indexOf(v)) {
        throw new ConfigError(`${file}: ${v}: '@${ref}' must be listed before ${v} (its student is ${v}'s teacher)`);
      }
      if (v in s.teachers && ref in s.variants) throw new ConfigError(`${file}: teacher ${v} cannot learn from variant '@${ref}'`);
    }
  }
  if (s.study.baseline !== undefined && !(s.study.baseline in s.variants)) {
    throw new ConfigError(`${file}: study.baseline: '${s.study.baseline}' is not a variant (known: ${Object.keys(s.variants).join(', ')})`);
  }
  s.claims.forEach((c, i) => c.order.flat().forEach((n) => {
    if (!(n in s.variants) && !(n in s.teachers)) throw new ConfigError(`${file}: claims.${i} ('${c.text}'): unknown group '${n}'`);
  }));
  s.gains.forEach((g, i) => [g.method, g.control].forEach((n) => {
    if (!(n in s.variants)) throw new ConfigError(`${file}: gains.${i} ('${g.text}'): '${n}' is not a variant of this study`);
  }));
  return { study: s, dir: path.dirname(abs) };
}

function loadRaw(file: string, seen: string[]): Record<string, unknown> {
  if (seen.includes(file)) throw new ConfigError(`${file}: 'extends' forms a cycle (${[...seen, file].join(' → ')})`);
  const raw = readConfigFile(file) as Record<string, unknown>;
  if (raw.extends === undefined) return raw;
  const { extends: parent, ...rest } = raw;
  if (typeof parent !== 'string') throw new ConfigError(`${file}: extends: expected a file name`);
  return deepMerge(loadRaw(path.resolve(path.dirname(file), parent), [...seen, file]), rest) as Record<string, unknown>;
}

// A teacher of a study run is '@name' (a study teacher or an earlier variant, by its best
// checkpoint) or a teacher object; an object's `run: '@name'` names one the same way, so that it can
// carry its own settings (a teacher-output cache, say: { run: '@cnn', cache: { views: 8 } }).
function teacherRef(t: unknown): string | null {
  if (typeof t === 'string') {
    if (!t.startsWith('@')) throw new ConfigError(`teacher '${t}': a teacher given as a string must be '@name' (a study teacher or earlier variant)`);
    return t.slice(1);
  }
  const run = t && typeof t === 'object' ? (t as { run?: unknown }).run : undefined;
  return typeof run === 'string' && run.startsWith('@') ? run.slice(1) : null;
}

function teacherRefs(o: Record<string, unknown>): string[] {
  const ts = o.teachers;
  if (!Array.isArray(ts)) return [];
  return ts.map(teacherRef).filter((r): r is string => r !== null);
}

export interface StudyOptions {
  /** run only these variants (teachers they need still train) */
  only?: string[];
  seeds?: number[];
  /** override study.out / study.report */
  out?: string;
  report?: string;
  log?: (line: string) => void;
  /** silence each run's progress bar */
  quiet?: boolean;
  /** runs at once, each in its own process with cores/jobs libtorch threads (default 1: in this process) */
  jobs?: number;
  /** extra `a.b=c` overrides applied to every run (teachers included) */
  set?: string[];
  /** keep (or resume) a run whose config or teacher file differs from what the study asks for,
   *  instead of training it again */
  reuseStale?: boolean;
  /** break a run lock taken on another host (a lock of a dead process on this host is always broken) */
  breakLock?: boolean;
}

export interface StudyResult { study: Study; report: string; json: string; markdown: string; wallTimeSec: number }

export async function runStudy(file: string, opts: StudyOptions = {}): Promise<StudyResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const { study: s, dir } = loadStudy(file);
  const out = path.resolve(opts.out ?? path.resolve(dir, s.study.out));
  const reportFile = path.resolve(opts.report ?? path.resolve(dir, s.study.report));
  const seeds = opts.seeds ?? s.study.seeds;
  const variants = opts.only ?? Object.keys(s.variants);
  for (const v of variants) if (!(v in s.variants)) throw new ConfigError(`--only: unknown variant '${v}' (known: ${Object.keys(s.variants).join(', ')})`);
  // variants an asked-for variant learns from run too
  const needed = new Set<string>();
  const need = (v: string) => {
    for (const r of teacherRefs(s.variants[v] ?? s.teachers[v])) { if (r in s.variants) need(r); needed.add(r); }
    needed.add(v);
  };
  variants.forEach(need);
  const teacherNames = Object.keys(s.teachers).filter((t) => needed.has(t));
  const variantNames = Object.keys(s.variants).filter((v) => needed.has(v));
  const jobs = Math.max(1, opts.jobs ?? 1);
  const total = teacherNames.length + variantNames.length * seeds.length;
  const t0 = Date.now();
  let done = 0;
  const summaries = new Map<string, TrainSummary>();
  const configOf = (name: string, overrides: Record<string, unknown>, seed: number | null) =>
    runConfig(s, out, name, overrides, seed, opts.set ?? [], jobs, file);
  // issue 16: every run's config is checked before the first run starts (a bad variant used to be
  // found only when its turn came, after the teachers had trained)
  validateAllRuns(teacherNames.map((t) => [t, s.teachers[t], null] as const), variantNames.flatMap((v) => seeds.map((sd) => [v, s.variants[v], sd] as const)), configOf);
  const runOne = async (name: string, overrides: Record<string, unknown>, seed: number | null): Promise<TrainSummary> => {
    const { runName, cfg, config } = configOf(name, overrides, seed);
    const runDir = path.join(out, runName);
    done++;
    const tag = `[study ${done}/${total}] ${runName}`;
    const summaryFile = path.join(runDir, 'summary.json');
    // a run killed with SIGKILL leaves its lock behind: broken here when its process is gone
    breakDeadLock(runDir, { breakLock: opts.breakLock, log: (l) => log(`${tag}: ${l}`) });
    const finished = fs.existsSync(summaryFile);
    const started = finished || (fs.existsSync(path.join(runDir, 'checkpoints')) && fs.existsSync(path.join(runDir, 'config.json')));
    const changes = started ? staleness(runDir, absolutePaths(config, dir)) : [];
    let sum: TrainSummary;
    if (changes.length && !opts.reuseStale) {
      const aside = moveAside(runDir);
      log(`${tag}: differs from what the study asks for (${changes.join('; ')}): a new run; the earlier one is kept in ${aside}`);
    } else if (changes.length) {
      log(`${tag}: differs from what the study asks for (${changes.join('; ')}); --reuse-stale: ${finished ? 'its results are reused' : 'resumed with its own config'}`);
    }
    if (fs.existsSync(summaryFile)) {
      sum = JSON.parse(fs.readFileSync(summaryFile, 'utf8'));
      log(`${tag}: done before (top-1 ${(100 * sum.top1).toFixed(2)}%), reused`);
    } else {
      const resume = fs.existsSync(path.join(runDir, 'checkpoints')) && fs.existsSync(path.join(runDir, 'config.json'));
      log(`${tag}: ${resume ? 'resuming' : 'training'} (${describe(cfg as Record<string, any>)})`);
      sum = jobs > 1
        ? await trainInWorker({ config: resume ? null : cfg, resume: resume ? runDir : undefined, out, baseDir: dir }, (l) => log(`  ${runName}: ${l}`))
        : await trainHere(resume ? null : cfg as object, { resume: resume ? runDir : undefined, out, quiet: opts.quiet, log: (l) => log(`  ${l}`) }, dir);
      if (path.resolve(sum.runDir) !== runDir) throw new Error(`study: ${runName} was written to ${sum.runDir}, not ${runDir}`);
      writeReport([sum.runDir], sum.report, `civet run ${sum.name}`);   // train() writes no report; each run keeps its own
      log(`${tag}: top-1 ${(100 * sum.top1).toFixed(2)}% in ${sum.wallTimeSec.toFixed(0)} s (study ${fmtDur((Date.now() - t0) / 1000)} so far)`);
    }
    return sum;
  };
  // jobs: teachers first (in order), then variants seed by seed; a job starts once the runs it
  // learns from have finished, and at most `jobs` run at once (each in its own process)
  interface Job { key: string; deps: string[]; start(): Promise<TrainSummary> }
  const jobList: Job[] = [
    ...teacherNames.map((t) => ({ key: `teacher:${t}`, deps: teacherRefs(s.teachers[t]).map((r) => `teacher:${r}`), start: () => runOne(t, s.teachers[t], null) })),
    ...seeds.flatMap((seed) => variantNames.map((v) => ({
      key: `${v}:${seed}`,
      deps: teacherRefs(s.variants[v]).map((r) => (r in s.teachers ? `teacher:${r}` : `${r}:${seed}`)),
      start: () => runOne(v, s.variants[v], seed),
    }))),
  ];
  await schedule(jobList, jobs, summaries);
  const wall = (Date.now() - t0) / 1000;
  // ---- results -------------------------------------------------------------------------------
  const row = (x: TrainSummary, seed: number) => ({ seed, top1: x.top1, top5: x.top5, ece: x.ece, 'time (s)': x.wallTimeSec, 'params (M)': x.params / 1e6 });
  const groups: (StudyGroup & { key: string })[] = [
    ...teacherNames.map((t) => ({ name: `teacher: ${t} (${summaries.get(`teacher:${t}`)!.model})`, key: t, runs: [row(summaries.get(`teacher:${t}`)!, 0)] })),
    ...variantNames.map((v) => ({
      name: `${v} (${summaries.get(`${v}:${seeds[0]}`)!.method}, ${summaries.get(`${v}:${seeds[0]}`)!.model})`, key: v,
      runs: seeds.map((sd) => row(summaries.get(`${v}:${sd}`)!, sd)),
    })),
  ];
  const byKey = new Map(groups.map((g) => [g.key, g]));
  const metric = s.study.metric;
  const claims: StudyClaim[] = s.claims.filter((c) => c.order.flat().every((n) => byKey.has(n))).map((c) => checkOrder(c.text, c.order, byKey, metric));
  const gains = distillationGains(s.gains, byKey, metric);
  const readouts = readoutNote(variantNames.map((v) => {
    const m = (configOf(v, s.variants[v], seeds[0]).cfg as Record<string, any>).method ?? {};
    return { key: v, method: m.name ?? 'ce', options: m.options ?? {} };
  }));
  const study: Study = {
    title: s.study.title,
    description: `${s.study.description.trim()}\n\n${readouts}\n\nMade by: civet study ${path.relative(process.cwd(), path.resolve(file)) || file}` +
      ` — ${variantNames.length} variants × ${seeds.length} seeds + ${teacherNames.length} teachers; the runs' own training times add up to` +
      ` ${fmtDur([...summaries.values()].reduce((a, x) => a + x.wallTimeSec, 0))} on this machine (each run's time is in the table).`,
    groups: groups.map(({ name, runs }) => ({ name, runs })),
    claims,
    // teachers are shown, not ranked; Δ against the baseline variant where the study names one
    references: groups.filter((g) => g.key in s.teachers).map((g) => g.name),
    baseline: s.study.baseline !== undefined && byKey.has(s.study.baseline) ? byKey.get(s.study.baseline)!.name : undefined,
    images: [...summaries.values()].flatMap((x) => runImages(x.runDir)),
    gains,
  };
  writeStudyReport(study, reportFile);
  const json = reportFile.replace(/\.html?$/, '') + '.json';
  writeFileAtomic(json, JSON.stringify({ file: path.resolve(file), seeds, metric, groups: study.groups, claims, gains }, null, 2));
  const markdown = reportFile.replace(/\.html?$/, '') + '.md';
  writeFileAtomic(markdown, studyMarkdown(study, metric));
  log(`[study] report: ${reportFile} (${claims.filter((c) => c.holds).length}/${claims.length} claims hold)`);
  return { study, report: reportFile, json, markdown, wallTimeSec: wall };
}

/** The train config of one run of a study (validated; teachers given as '@name' become run dirs). */
function runConfig(s: StudyFile, out: string, name: string, overrides: Record<string, unknown>, seed: number | null, sets: string[], jobs: number, file: string): { runName: string; cfg: Record<string, any>; config: Config } {
  const runName = seed === null ? `teacher-${name}` : `${name}-s${seed}`;
  const resolved = structuredClone(overrides);
  if (Array.isArray(resolved.teachers)) {
    resolved.teachers = resolved.teachers.map((t) => {
      const ref = teacherRef(t);
      if (ref === null) return t;
      const dirOf = ref in s.teachers ? path.join(out, `teacher-${ref}`) : path.join(out, `${ref}-s${seed}`);
      return typeof t === 'string' ? { run: dirOf } : { ...(t as object), run: dirOf };
    });
  }
  const cfgRaw = deepMerge(s.base, resolved) as Record<string, any>;
  cfgRaw.run = { ...(cfgRaw.run ?? {}), name: runName };
  if (seed !== null) cfgRaw.run.seed = seed;
  const cfg = applyOverrides(cfgRaw, sets, '--set') as Record<string, any>;
  if (jobs > 1) cfg.run.threads = Math.max(1, Math.floor(os.cpus().length / jobs));
  // paths in the study (data roots, weights) are relative to the study file
  const config = validateConfig(cfg, `${file} (${runName})`, sets);
  return { runName, cfg, config };
}

/**
 * How a run in the study's folder differs from what the study asks for now: its config (config.json
 * against the study's config with paths resolved; run.threads, which follows --jobs, aside) and its
 * teacher files (teachers.json against the files now). One entry per difference; empty if none.
 */
function staleness(runDir: string, want: Config): string[] {
  let have: Config;
  try { have = loadRunConfig(runDir).config; } catch (e: any) {
    if (e instanceof ConfigError) return [`its config cannot be read (${e.message})`];
    throw e;
  }
  const strip = (c: Config) => { const x = structuredClone(c) as any; delete x.run.threads; return x; };
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  const keys = diffKeys(strip(have), strip(want)).map(([k, a, b]) => `${k}: ${show(a)} → ${show(b)}`);
  return [...keys, ...teacherFileChanges(runDir, teacherFiles(want))];
}

/** Pictures a run's folder holds (a method's synthesized images, say), for the report to link. */
function runImages(runDir: string): { label: string; file: string }[] {
  let names: string[];
  try { names = fs.readdirSync(runDir); } catch { return []; }
  return names.filter((n) => /\.(png|jpe?g|gif|webp|svg)$/i.test(n)).sort().map((n) => ({ label: `${path.basename(runDir)}: ${n}`, file: path.join(runDir, n) }));
}

/** Moves a stale run out of the way (never deleted: its results may still be wanted): <run>.stale-N. */
function moveAside(runDir: string): string {
  for (let k = 1; ; k++) {
    const to = `${runDir}.stale-${k}`;
    if (fs.existsSync(to)) continue;
    fs.renameSync(runDir, to);
    return to;
  }
}

/** Builds (and so validates) every run's config; all the errors at once, before any run starts. */
function validateAllRuns(teachers: readonly (readonly [string, Record<string, unknown>, null])[], variants: readonly (readonly [string, Record<string, unknown>, number])[], configOf: (n: string, o: Record<string, unknown>, seed: number | null) => unknown): void {
  const errors: string[] = [];
  for (const [n, o, seed] of [...teachers, ...variants]) {
    try { configOf(n, o, seed); } catch (e: any) { if (e instanceof ConfigError) errors.push(e.message); else throw e; }
  }
  if (errors.length) throw new ConfigError([...new Set(errors)].join('\n'));
}

/** order [a, [b, c], d]: every mean of an entry exceeds every mean of the next entry. */
export function checkOrder(text: string, order: (string | string[])[], groups: Map<string, StudyGroup>, metric: string): StudyClaim {
  const stats = (n: string) => meanStd(groups.get(n)!.runs.map((r) => r[metric]).filter((v): v is number => typeof v === 'number'));
  const pct = metric.startsWith('top');
  const fmt = (x: number) => (pct ? `${(100 * x).toFixed(2)}%` : x.toFixed(4));
  const levels = order.map((e) => (Array.isArray(e) ? e : [e]));
  let holds = true, minGap = Infinity;
  const parts: string[] = [levels[0].map((n) => `${n} ${fmt(stats(n).mean)}`).join(', ')];
  for (let i = 0; i + 1 < levels.length; i++) {
    const gap = Math.min(...levels[i].map((n) => stats(n).mean)) - Math.max(...levels[i + 1].map((n) => stats(n).mean));
    if (!(gap > 0)) holds = false;
    minGap = Math.min(minGap, gap);
    parts.push(`${gap > 0 ? '>' : '≤'} ${levels[i + 1].map((n) => `${n} ${fmt(stats(n).mean)}`).join(', ')}`);
  }
  // a margin smaller than the spread over seeds is an ordering of means, not evidence
  const maxStd = Math.max(...levels.flat().map((n) => stats(n).std).filter((x) => Number.isFinite(x)), 0);
  const scale = pct ? 100 : 1, unit = pct ? ' pts' : '';
  const margin = holds && maxStd > 0
    ? `; smallest margin ${(scale * minGap).toFixed(2)}${unit} ${minGap > maxStd ? '>' : '<'} largest std over seeds ${(scale * maxStd).toFixed(2)}${unit}${minGap > maxStd ? '' : ' (within seed noise)'}`
    : '';
  // issue 16: an ordering whose smallest margin is within the seeds' spread is inconclusive, not a ✓
  const verdict: ClaimVerdict = !holds ? 'does not hold' : maxStd > 0 && !(minGap > maxStd) ? 'inconclusive' : 'holds';
  return { text, holds: verdict === 'holds', verdict, detail: `${metric} means: ${parts.join('  ')}${margin}` };
}

export function studyMarkdown(s: Study, metric: string): string {
  const keys = ['top1', 'ece', 'time (s)', 'params (M)'].filter((k) => s.groups.some((g) => g.runs.some((r) => typeof r[k] === 'number')));
  const fmt = (k: string, xs: number[]) => {
    const { mean, std } = meanStd(xs);
    const f = (v: number) => (k.startsWith('top') ? (100 * v).toFixed(2) : k === 'ece' ? v.toFixed(4) : k === 'time (s)' ? v.toFixed(0) : v.toFixed(3));
    return Number.isNaN(std) ? f(mean) : `${f(mean)} ± ${f(std)}`;
  };
  // the Δ column of the HTML report, where the study names a baseline (references get none)
  const base = s.baseline === undefined || !keys.includes('top1') ? undefined : s.groups.find((g) => g.name === s.baseline);
  const top1 = (g: StudyGroup) => meanStd(g.runs.map((r) => r.top1).filter((x): x is number => typeof x === 'number')).mean;
  const delta = (g: StudyGroup) => {
    if (g === base) return 'baseline';
    const d = 100 * (top1(g) - top1(base!));
    return (s.references ?? []).includes(g.name) || !Number.isFinite(d) ? '—' : `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)}`;
  };
  const lines = [
    `# ${s.title}`, '', s.description ?? '', '',
    `## Claims (${metric})`, '',
    ...s.claims.map((c) => `- ${VERDICT_BADGE[claimVerdict(c)]}: ${c.text} — ${c.detail}`), '',
    ...(s.gains?.length ? ['## Distillation gains (each against its own architecture without teachers)', '', ...gainLines(s.gains).map((l) => `- ${l}`), ''] : []),
    '## Results (mean ± std over seeds)', '',
    `| group | seeds | ${keys.join(' | ')} |${base ? ` Δ top1 vs ${base.name} (pts) |` : ''}`, `|---|---|${keys.map(() => '---').join('|')}|${base ? '---|' : ''}`,
    ...s.groups.map((g) => `| ${g.name} | ${g.runs.length} | ${keys.map((k) => fmt(k, g.runs.map((r) => r[k]).filter((x): x is number => typeof x === 'number'))).join(' | ')} |${base ? ` ${delta(g)} |` : ''}`),
    '', `top1 in %${keys.includes('ece') ? ', ECE = expected calibration error (15 bins)' : ''}, time = wall time of one run (all its stages) on this machine` +
      `${base ? `; Δ = the group's mean top1 minus that of the baseline, ${base.name}, in points` : ''}.`, '',
  ];
  return lines.join('\n');
}

function describe(c: Record<string, any>): string {
  const m = c.method?.name ?? 'ce';
  const ts = Array.isArray(c.teachers) ? c.teachers.map((t: any) => (t.run ? path.basename(t.run) : t.model ?? t.torchscript)).join(' + ') : '';
  return `${c.student?.model} ${m}${ts ? ` ← ${ts}` : ''}, ${c.epochs} epochs`;
}

function fmtDur(sec: number): string {
  return sec < 90 ? `${sec.toFixed(0)} s` : `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`;
}

async function schedule(jobs: { key: string; deps: string[]; start(): Promise<TrainSummary> }[], n: number, done: Map<string, TrainSummary>): Promise<void> {
  const pending = [...jobs];
  const running = new Map<string, Promise<void>>();
  let failure: unknown = null;
  while ((pending.length || running.size) && failure === null) {
    for (let i = 0; i < pending.length && running.size < n;) {
      const j = pending[i];
      if (j.deps.every((d) => done.has(d))) {
        pending.splice(i, 1);
        running.set(j.key, j.start().then((r) => { done.set(j.key, r); }, (e) => { failure ??= e; }).finally(() => { running.delete(j.key); }));
      } else i++;
    }
    if (!running.size) throw new Error(`study: cannot start ${pending.map((j) => j.key).join(', ')}: they wait on runs that are not in this study`);
    await Promise.race(running.values());
  }
  await Promise.all(running.values());
  if (failure !== null) throw failure;
}

// paths in the study (data roots, weights) are relative to the study file: train() resolves them
// against baseDir, so the process's working directory is never changed
function trainHere(cfg: object | null, o: TrainOptions, baseDir: string): Promise<TrainSummary> {
  return train(cfg, { ...o, baseDir });
}

/** One run in a child process (study_worker.js): its summary, or its error with the message. */
function trainInWorker(msg: { config: unknown; resume?: string; out: string; baseDir: string }, log: (l: string) => void): Promise<TrainSummary> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'study_worker.js'), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let result: TrainSummary | null = null, error: string | null = null, stderr = '';
    child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    child.on('message', (m: any) => {
      if (m.log) log(m.log);
      if (m.summary) result = m.summary;
      if (m.error) error = m.error;
    });
    child.on('exit', (code, signal) => {
      if (result) resolve(result);
      else reject(new Error(error ?? `study worker exited with ${signal ?? `code ${code}`}${stderr ? `:\n${stderr}` : ''}`));
    });
    child.send(msg);
  });
}
