import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { meanStd, renderReport, writeReport, writeStudyReport, type Study } from './html';
import { loadRun, runRow } from './runs';
import { fmtTick, niceTicks } from './svg';

const CHROMIUM = '/usr/bin/chromium';
const skipBrowser = fs.existsSync(CHROMIUM) ? false : `skipped: ${CHROMIUM} not found (apt-get install -y chromium)`;
const LAUNCH = {
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};
const NASTY = 'kd <b>bold</b> & "quoted"';

/** A fake run: loss decays, accuracy climbs, cosine learning rate. */
function fakeRun(root: string, name: string, opts: { speed: number; withFiles: boolean; nasty?: boolean }): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  const epochs = 10;
  const stepsPerEpoch = 100;
  for (let e = 0; e < epochs; e++) {
    for (let s = 10; s <= stepsPerEpoch; s += 10) {
      const step = e * stepsPerEpoch + s;
      const ce = 2.3 * Math.exp(-step / (400 * opts.speed)) + 0.2 + 0.05 * Math.sin(step);
      const kd = 1.1 * Math.exp(-step / (300 * opts.speed)) + 0.1;
      const lr = 0.001 * 0.5 * (1 + Math.cos((Math.PI * step) / (epochs * stepsPerEpoch)));
      lines.push(JSON.stringify({ kind: 'train', step, epoch: e, loss: ce + kd, terms: { ce, kd }, lr, imgPerSec: 500 * opts.speed + (step % 7) }));
    }
    const top1 = 0.95 - 0.6 * Math.exp(-(e + 1) / (2.5 * opts.speed));
    lines.push(JSON.stringify({ kind: 'eval', epoch: e, step: (e + 1) * stepsPerEpoch, top1, top5: Math.min(1, top1 + 0.1), loss: 1 - top1, ece: 0.02 + 0.01 * opts.speed }));
  }
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  if (opts.withFiles) {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ name: opts.nasty ? NASTY : name, distill: { method: 'hard-kd' }, student: { name: 'vit-tiny' } }));
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ params: 5_717_416, wallTimeSec: 3725, imgPerSec: 1234.5 }));
  }
  return dir;
}

test('nice ticks and tick labels', () => {
  assert.deepEqual(niceTicks(0, 1000).ticks, [0, 200, 400, 600, 800, 1000]);
  assert.deepEqual(niceTicks(0.13, 0.92).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(5, 5).ticks.length > 1, true, 'flat data still gets a range');
  assert.equal(fmtTick(0.25, 0.25), '0.25');
  assert.equal(fmtTick(20000, 5000), '20k');
  assert.equal(fmtTick(0.00025, 0.00005), '2.5e-4');
  assert.equal(fmtTick(3, 1), '3');
});

test('meanStd uses the sample standard deviation', () => {
  const { mean, std } = meanStd([0.8, 0.82, 0.84]);
  assert.ok(Math.abs(mean - 0.82) < 1e-12);
  assert.ok(Math.abs(std - 0.02) < 1e-12);
  assert.ok(Number.isNaN(meanStd([1]).std));
});

test('runs load with missing files and a truncated metrics log', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-runs-'));
  const dir = fakeRun(root, 'bare', { speed: 1, withFiles: false });
  fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"kind":"train","st');
  const r = loadRun(dir);
  assert.equal(r.name, 'bare');
  assert.equal(r.train.length, 100);
  assert.equal(r.evals.length, 10);
  assert.match(r.warnings.join(), /partial line/);
  const row = runRow(r);
  assert.equal(row.method, undefined);
  assert.ok(Math.abs(row.finalTop1! - (0.95 - 0.6 * Math.exp(-10 / 2.5))) < 1e-12);
  assert.equal(row.bestTop1, row.finalTop1);
  assert.ok(row.imgPerSec! >= 500 && row.imgPerSec! < 507, 'median of logged img/s');
  assert.equal(loadRun(path.join(root, 'nothing-here')).warnings[0], 'no metrics.jsonl');
});

test('run report: epochs counted from 1, validation loss plotted, a corrupt metrics line skipped with a note naming it', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-report-'));
  const dir = fakeRun(root, 'r', { speed: 1, withFiles: false });
  const file = path.join(dir, 'metrics.jsonl');
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines[4] = '{"kind":"train","step":50,"lo\u0000ss';   // line 5: a damaged record in the middle
  fs.writeFileSync(file, lines.join('\n'));
  const html = renderReport([dir]);
  const plot = (title: string) => html.match(new RegExp(`<svg class="plot"[^>]*aria-label="${title}"[\\s\\S]*?</svg>`))?.[0] ?? '';
  assert.match(html, /<div class="warn">r: metrics\.jsonl line 5 is not a JSON record; skipped/);
  // every curve is still drawn from the other records
  assert.equal((plot('Training loss').match(/class="series"/g) ?? []).length, 1);
  assert.equal(loadRun(dir).train.length, 99);
  const top1 = plot('Validation top-1 accuracy');
  // the first evaluation (after epoch 1) sits at epoch 1, the last at 10; the axis starts at 1
  assert.match(top1, /<title>r: 1, 0\.\d+<\/title>/);
  assert.match(top1, /<title>r: 10, 0\.\d+<\/title>/);
  assert.doesNotMatch(top1, /<title>r: 0, /);
  assert.match(top1, /text-anchor="middle">1<\/text>/);
  assert.doesNotMatch(top1, /text-anchor="middle">0<\/text>/);
  // validation loss: the eval records' loss, one point per epoch
  const vloss = plot('Validation loss');
  assert.equal((vloss.match(/<circle /g) ?? []).length, 10);
  assert.match(vloss, new RegExp(`<title>r: 10, ${1 - (0.95 - 0.6 * Math.exp(-10 / 2.5))}</title>`));
});

test('run report is self-contained, escaped, and renders in Chromium', { skip: skipBrowser }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-report-'));
  const dirs = [fakeRun(root, 'kd-vit-tiny', { speed: 1, withFiles: true, nasty: true }), fakeRun(root, 'baseline-vit-tiny', { speed: 1.6, withFiles: false })];
  const out = path.join(root, 'report.html');
  writeReport(dirs, out);
  const html = fs.readFileSync(out, 'utf8');
  assert.equal(html, renderReport(dirs).replace(/generated [^<]*UTC/, html.match(/generated [^<]*UTC/)![0]));
  assert.ok(!/<script|<link|@import|url\(|\bsrc=|\bhref=/i.test(html), 'no external resources');
  assert.ok(!html.includes('<b>bold</b>'), 'data is escaped');
  assert.ok(html.includes('kd &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;'));

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch(LAUNCH);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(out).href);
    assert.deepEqual(requests, [pathToFileURL(out).href], 'nothing fetched besides the page');

    assert.equal(await page.locator('svg.plot').count(), 6, 'loss, top-1, validation loss, lr, and the ce and kd terms');
    assert.ok((await page.locator('svg path.series').count()) >= 10, 'two runs per plot');
    assert.equal(await page.locator('table.runs tbody tr').count(), 2);
    const firstCell = await page.locator('table.runs tbody tr').first().locator('td').first().innerText();
    assert.equal(firstCell.trim(), NASTY, 'escaped name displays literally');
    const cells = await page.locator('table.runs tbody tr').first().locator('td').allInnerTexts();
    assert.deepEqual(cells.slice(1, 3), ['hard-kd', 'vit-tiny']);
    assert.deepEqual(cells.slice(7), ['5.72M', '1:02:05', '1,235']);
    const bbox = await page.locator('svg.plot path.series').first().evaluate((el) => {
      const b = (el as unknown as { getBBox(): { width: number; height: number } }).getBBox();
      return { w: b.width, h: b.height };
    });
    assert.ok(bbox.w > 100 && bbox.h > 20, `series has a real extent: ${JSON.stringify(bbox)}`);
    const svgBox = await page.locator('svg.plot').first().boundingBox();
    assert.ok(svgBox && svgBox.width > 300 && svgBox.height > 150);
    await page.screenshot({ path: '/tmp/civet-report.png', fullPage: true });
  } finally {
    await browser.close();
  }
});

test('study report: mean ± std table, claims, interval plot', { skip: skipBrowser }, async () => {
  const study: Study = {
    title: 'KD vs. baseline on CIFAR-10 <3 seeds>',
    description: 'Students trained with and without a ResNet teacher.',
    groups: [
      { name: 'baseline', runs: [{ seed: 0, top1: 0.80, top5: 0.98, ece: 0.05 }, { seed: 1, top1: 0.82, top5: 0.985, ece: 0.04 }, { seed: 2, top1: 0.84, top5: 0.99, ece: 0.045 }] },
      { name: 'hard-kd', runs: [{ seed: 0, top1: 0.86, top5: 0.99, ece: 0.03 }, { seed: 1, top1: 0.87, top5: 0.992, ece: 0.028 }, { seed: 2, top1: 0.85, top5: 0.991, ece: 0.031 }] },
    ],
    claims: [
      { text: 'KD beats the baseline on top-1', holds: true, detail: '86.00 vs 82.00, p < 0.05' },
      { text: 'KD improves calibration by >50%', holds: false, detail: 'ECE 0.030 vs 0.045' },
    ],
  };
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civet-study-')), 'study.html');
  writeStudyReport(study, out);
  const html = fs.readFileSync(out, 'utf8');
  assert.ok(html.includes('&lt;3 seeds&gt;'));
  // one inline script (sorting), nothing loaded from elsewhere
  assert.ok(!/<script[^>]*\bsrc=|\bsrc=|\bhref=/i.test(html));
  assert.equal((html.match(/<script>/g) ?? []).length, 1);

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch(LAUNCH);
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.goto(pathToFileURL(out).href);
    assert.equal(await page.locator('table.groups tbody tr').count(), 2);
    const row = await page.locator('table.groups tbody tr').first().locator('td').allInnerTexts();
    assert.deepEqual(row.map((s) => s.trim()), ['baseline', '3', '82.00 ± 2.00%', '98.50 ± 0.50%', '0.0450 ± 0.0050']);
    assert.equal(await page.locator('.claims li.holds').count(), 1);
    assert.equal(await page.locator('.claims li.fails').count(), 1);
    assert.equal(await page.locator('svg.plot path.series').count(), 2);
    await page.screenshot({ path: '/tmp/civet-study.png', fullPage: true });
  } finally {
    await browser.close();
  }
});
