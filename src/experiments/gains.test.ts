// The study's distillation gains and the read-outs reports name, on fabricated results (no
// training): per-seed differences, mean ± std, the verdict from the claim machinery, the HTML and
// markdown renderings, and the study files that carry them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { distillationGains, readoutNote } from './gains';
import { loadStudy, studyMarkdown } from './study';
import { renderStudyReport, renderReport, type StudyGroup } from '../report/html';
import { gainLines } from '../report/gains';
import '../distill';

const group = (name: string, top1: number[]): StudyGroup => ({ name, runs: top1.map((v, seed) => ({ seed, top1: v })) });
const groups = new Map<string, StudyGroup>([
  ['civt', group('civt', [0.72, 0.74, 0.73])],
  ['civt_ce', group('civt_ce', [0.714, 0.70, 0.69])],     // gains 0.6, 4, 4 pts
  ['deit_cnn', group('deit_cnn', [0.50, 0.49, 0.52])],
  ['deit_ce', group('deit_ce', [0.49, 0.50, 0.50])],      // gains 1, −1, 2 pts: means in order, within the spread
  ['deit_inn', group('deit_inn', [0.47, 0.48, 0.46])],    // below its control
]);

test('gains: per-seed differences against the own-architecture control, mean ± std, verdicts', () => {
  const g = distillationGains([
    { text: 'CivT', method: 'civt', control: 'civt_ce' },
    { text: 'DeiT ← CNN', method: 'deit_cnn', control: 'deit_ce' },
    { text: 'DeiT ← INN', method: 'deit_inn', control: 'deit_ce' },
  ], groups, 'top1');
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  assert.deepEqual(g[0].perSeed.map((p) => p.seed), [0, 1, 2]);
  [0.006, 0.04, 0.04].forEach((v, i) => close(g[0].perSeed[i].gain, v));
  close(g[0].mean, (0.006 + 0.04 + 0.04) / 3);
  // sample std (n − 1) of the three paired gains
  const m = g[0].mean, sd = Math.sqrt([0.006, 0.04, 0.04].reduce((a, v) => a + (v - m) ** 2, 0) / 2);
  close(g[0].std, sd);
  // civt 73.0 vs civt_ce 70.13: margin 2.87 pts > the larger std (1.23 pts) → holds
  assert.equal(g[0].verdict, 'holds');
  // deit_cnn 50.33 vs deit_ce 49.67: in order, margin 0.67 < std 1.53 → inconclusive
  assert.equal(g[1].verdict, 'inconclusive');
  close(g[1].mean, (0.01 - 0.01 + 0.02) / 3);
  assert.equal(g[2].verdict, 'does not hold');
  assert.ok(g[2].mean < 0);
  // one line per gain: the pair, the gain with its spread, each seed, the verdict
  const lines = gainLines(g);
  assert.match(lines[0], /^✓ holds: CivT \(civt − civt_ce\): top1 \+2\.87 ± 1\.96 pts over 3 seeds \(per seed: 0: \+0\.60 pts, 1: \+4\.00 pts, 2: \+4\.00 pts\)/);
  assert.match(lines[1], /^\? inconclusive: DeiT ← CNN \(deit_cnn − deit_ce\): top1 \+0\.67 ± 1\.53 pts/);
  assert.match(lines[2], /^✗ does not hold: DeiT ← INN \(deit_inn − deit_ce\): top1 −2\.67 ± /);
  // in the study's HTML and markdown
  const study = { title: 't', groups: [...groups.values()], claims: [], gains: g };
  const html = renderStudyReport(study);
  assert.match(html, /<h2>Distillation gains/);
  assert.match(html, /CivT: <b>\+2\.87 ± 1\.96 pts<\/b>/);
  assert.equal((html.match(/class="(holds|inconclusive|fails)"/g) ?? []).length, 3);
  const md = studyMarkdown(study, 'top1');
  assert.match(md, /## Distillation gains/);
  for (const l of lines) assert.ok(md.includes(`- ${l}`));
  // a gain whose runs share no seed is an error, not a number
  assert.throws(() => distillationGains([{ text: 'x', method: 'civt', control: 'nope' }], groups, 'top1'), /no results for group 'nope'/);
});

test('read-outs: each method names how its top-1 is read out; study and run reports say it', () => {
  const note = readoutNote([
    { key: 'vit', method: 'ce', options: {} },
    { key: 'civt', method: 'coadvise', options: {} }, { key: 'civt_ce', method: 'coadvise', options: { labelsOnly: true } },
    { key: 'civt_cls', method: 'coadvise', options: { readout: 'cls' } },
    { key: 'deit_cnn', method: 'deit', options: {} },
  ]);
  assert.equal(note, "Top-1 read-out: vit: the student's logits; civt, civt_ce: mean of the cls, conv and inv heads (official code); " +
    "civt_cls: class head (the paper's text); deit_cnn: mean of the class and distillation heads (DeiT's code).");
  // the run report shows summary.json's read-out under the runs table
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-readout-'));
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ name: 'civt-s0', method: 'coadvise', top1: 0.7, readout: 'mean of the cls, conv and inv heads (official code)' }));
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '');
  assert.match(renderReport([dir]), /Top-1 read-out: civt-s0: mean of the cls, conv and inv heads \(official code\)\./);
});

test('the Co-advise study declares its gains against its no-teacher controls; a gain naming no variant is refused', () => {
  const file = path.resolve(__dirname, '../../../configs/experiments/coadvise_fmnist.yaml');
  const { study } = loadStudy(file);
  assert.deepEqual(study.gains.map((g) => [g.method, g.control]), [['civt', 'civt_ce'], ['deit_cnn', 'deit_ce'], ['deit_inn', 'deit_ce'], ['civt_cached', 'civt'], ['deit_cnn_cached', 'deit_cnn']]);
  assert.equal((study.variants.civt_ce as any).method.options.labelsOnly, true);
  assert.equal((study.variants.deit_ce as any).method.options.labelsOnly, true);
  // the short job drops the controls and with them the gains
  assert.deepEqual(loadStudy(file.replace('.yaml', '_short.yaml')).study.gains, []);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-gains-'));
  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify({ study: { title: 't', out: 'o', report: 'r.html' }, base: {}, variants: { a: {} }, gains: [{ text: 'g', method: 'a', control: 'b' }] }));
  assert.throws(() => loadStudy(bad), /bad\.json: gains\.0 \('g'\): 'b' is not a variant of this study/);
});
