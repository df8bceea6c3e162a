// The methods table harness on a tiny budget: every result is a real accuracy on the test set with
// its time, and unknown method names are refused before anything trains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runMethodTable, TABLE_METHODS, TABLE_BASELINE, DEFAULT_PROTOCOL, methodTableStudy } from './methods_table';
import { writeStudyReport } from '../report/html';
import { studyMarkdown } from './study';
import { listMethods } from '../distill/registry';

test('methods table: two methods, one seed, tiny budget', async () => {
  const seen: string[] = [];
  const r = await runMethodTable({
    seeds: [0], methods: ['ce (student alone)', 'kd'],
    protocol: { perClass: 10, teacherSteps: 20, steps: 10, threads: 1 },
    onRun: (x) => seen.push(x.method),
  });
  assert.deepEqual(seen, ['ce (student alone)', 'kd']);
  assert.ok(r.teacherTop1 >= 0 && r.teacherTop1 <= 1, `teacher accuracy ${r.teacherTop1}`);
  for (const g of r.groups) {
    assert.equal(g.runs.length, 1);
    const { top1, 'time (s)': t } = g.runs[0] as any;
    assert.ok(top1 >= 0 && top1 <= 1 && t > 0, JSON.stringify(g.runs[0]));
  }
  await assert.rejects(runMethodTable({ seeds: [0], methods: ['nope'] }), /methods-table: unknown method 'nope'/);
});

test('the table covers every registered classic method', () => {
  // each registered method of the classic family appears in the table (by its name in a label)
  const covered = Object.keys(TABLE_METHODS).join(' | ').replace(/-/g, '_').replace(/overhaul \(ofd\)/, 'ofd');
  const classic = ['kd', 'label_smoothing', 'tfkd', 'dkd', 'cs_kd', 'fitnets', 'at', 'sp', 'rkd', 'pkt', 'fsp', 'crd', 'ofd', 'ifkd', 'kdcl', 'takd', 'bss'];
  for (const m of classic) {
    assert.ok(listMethods().includes(m), `${m} is registered`);
    assert.ok(new RegExp(`(^|[ (|])${m}([ )|]|$)`).test(covered.replace(/label smoothing/, 'label_smoothing')), `${m} is in the table`);
  }
});

test('methods table report: Δ vs the CE row, best of each column marked, axis fitted to the data, full labels, image links, sorting', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-mtable-'));
  const grid = path.join(dir, 'deepinversion_grid.png');
  fs.writeFileSync(grid, 'png');
  const LONG = 'takd (resnet20 → resnet14 → resnet8), a label longer than any the plot used to keep';
  const g = (name: string, top1: number[], t = 10) => ({ name, runs: top1.map((v, seed) => ({ seed, top1: v, 'time (s)': t + seed })) });
  const r = {
    groups: [g(TABLE_BASELINE, [0.745, 0.75, 0.755], 5), g('kd', [0.78, 0.785, 0.79]), g('at', [0.755, 0.76, 0.765]), g('dkd', [0.765, 0.77, 0.775]),
      g(LONG, [0.77, 0.775, 0.78], 30), g('data-free: DeepInversion', [0.29, 0.30, 0.31], 60)],
    teacherTop1: 0.9, teacherSec: 1, protocol: { ...DEFAULT_PROTOCOL }, images: [{ label: 'deepinversion: the synthesized images', file: grid }],
  };
  const study = methodTableStudy(r, 'test');
  const out = path.join(dir, 'table.html');
  writeStudyReport(study, out);
  const html = fs.readFileSync(out, 'utf8');
  // Δ column against the no-KD row, named in its header
  assert.match(html, /<th[^>]*>Δ top1 vs ce \(student alone\) \(points\)<\/th>/);
  const row = (name: string) => html.match(new RegExp(`<tr><td class="text"><span class="swatch"[^>]*></span>${name.replace(/[()]/g, '\\$&')}.*?</tr>`))?.[0] ?? '';
  assert.match(row('kd'), /<td class="best" data-v="3\.5000000000000\d*">\+3\.50<\/td>/);
  assert.match(row('at'), /<td data-v="1\.0000000000000\d*">\+1\.00<\/td>/);
  assert.match(row('data-free: DeepInversion'), />−45\.00<\/td>/);
  assert.match(row(TABLE_BASELINE), /<td data-v="0">baseline<\/td>/);
  // best per column: kd's top-1 (the teacher is a reference, not ranked), the CE row's time
  assert.match(row('kd'), /<td class="best" data-v="0\.785[\d]*">78\.50 ± 0\.50%<\/td>/);
  assert.doesNotMatch(row('teacher \\(resnet20, CE\\)'), /class="best"/);
  assert.match(row(TABLE_BASELINE), /<td class="best" data-v="6">6.00 ± 1.00<\/td>/);
  // the markdown beside it has the Δ column too
  const md = studyMarkdown(study, 'top1');
  assert.match(md, /\| group \| seeds \| top1 \| time \(s\) \| Δ top1 vs ce \(student alone\) \(pts\) \|/);
  assert.match(md, /^\| kd \| 3 \| 78\.50 ± 0\.50 \| 11 ± 1 \| \+3\.50 \|$/m);
  assert.match(md, /^\| teacher \(resnet20, CE\) \| 1 \| 90\.00 \| 1 \| — \|$/m);
  // the spread plot's axis fits the 74.5–79 % cluster; the outliers are labelled at its edges
  const svg = html.match(/<svg class="plot"[^>]*aria-label="top1: mean ± std over seeds"[\s\S]*?<\/svg>/)![0];
  const lo = Number(svg.match(/data-axis-lo="([\d.]+)"/)![1]), hi = Number(svg.match(/data-axis-hi="([\d.]+)"/)![1]);
  assert.ok(lo >= 0.7 && lo <= 0.745 && hi >= 0.79 && hi <= 0.8, `axis ${lo}–${hi}`);
  assert.match(svg, /class="off-axis"[^>]*>◀ 30% ± 1%/);
  assert.match(svg, /class="off-axis"[^>]*>90% ▶/);   // one run: no spread to show
  // labels in full, nowhere cut
  assert.ok(svg.includes(`>${LONG}</text>`), 'the long label is whole');
  assert.ok(!html.includes('…'), 'nothing truncated');
  // the DeepInversion grid is linked, relative to the page
  assert.match(html, /<a href="deepinversion_grid\.png">deepinversion: the synthesized images<\/a>/);
  assert.ok(!/\bsrc=|https?:\/\//i.test(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')), 'nothing fetched from elsewhere');
  if (!fs.existsSync('/usr/bin/chromium')) return;
  // sorting works offline in a browser: by top-1 ascending, then descending
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(out).href);
    const first = async () => (await page.locator('table.groups tbody tr').first().locator('td').first().innerText()).trim();
    assert.match(await first(), /^teacher/);
    await page.locator('table.groups th', { hasText: 'top1 (%)' }).click();
    assert.equal(await first(), 'data-free: DeepInversion');
    await page.locator('table.groups th', { hasText: 'top1 (%)' }).click();
    assert.match(await first(), /^teacher/);
    await page.locator('table.groups th', { hasText: 'Δ top1' }).click();
    assert.equal(await first(), 'data-free: DeepInversion');
    await page.locator('table.groups th', { hasText: 'Δ top1' }).click();
    assert.equal(await first(), 'kd');
  } finally {
    await browser.close();
  }
});
