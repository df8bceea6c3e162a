// The browser page in headless Chromium: an exported Fashion-MNIST student loads in
// onnxruntime-web, a bundled test image (clicked, and picked through the file input) gets the
// class civet's own forward gives it, and the page shows the top-5 and the inference time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FASHION_MNIST_CLASSES } from '../data';
import { exportRun } from './run';
import { predictFiles } from './predict';
import { serveStatic, FMNIST_SAMPLES } from './web';
import { tinyRun } from './testing';

const CHROMIUM = '/usr/bin/chromium';
const skip = fs.existsSync(CHROMIUM) ? false : `skipped: ${CHROMIUM} not found (apt-get install -y chromium)`;
const LAUNCH = {
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};
export const SCREENSHOT = path.join(os.tmpdir(), 'civet-web-page.png');

test('browser page: the exported student classifies a bundled image in headless Chromium as civet does', { skip }, async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-web-'));
  const runDir = await tinyRun(work);
  const web = path.join(work, 'web');
  await exportRun(runDir, path.join(web, 'model.onnx'), { web, check: false });
  for (const f of ['index.html', 'app.js', 'model.onnx', 'model.json', 'ort/ort.wasm.bundle.min.mjs', 'ort/ort-wasm-simd-threaded.wasm', 'samples/index.json']) {
    assert.ok(fs.existsSync(path.join(web, f)), `${f} missing`);
  }
  const samples: { file: string }[] = JSON.parse(fs.readFileSync(path.join(FMNIST_SAMPLES, 'index.json'), 'utf8'));
  // civet's own forward on the same files (the run directory path of civet predict)
  const civet = await predictFiles(runDir, samples.map((s) => path.join(FMNIST_SAMPLES, s.file)));

  const server = await serveStatic(web);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch(LAUNCH);
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    const external: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith(server.url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) external.push(r.url()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction("['ready', 'error'].includes(document.body.dataset.state)", null, { timeout: 60_000 });
    assert.equal(await page.evaluate('document.body.dataset.state'), 'ready', await page.locator('#status').innerText());
    assert.equal(await page.locator('#samples button').count(), samples.length);

    // click three bundled images; each shows civet's top-1
    for (const i of [0, 3, 7]) {
      await page.evaluate("document.body.dataset.state = 'ready'");
      await page.locator(`#samples button[data-file="${samples[i].file}"]`).click();
      await page.waitForFunction("document.body.dataset.state === 'classified'", null, { timeout: 30_000 });
      const top1 = Number(await page.locator('#top1').getAttribute('data-index'));
      assert.equal(top1, civet.predictions[i].top[0].index, `${samples[i].file}: page says ${FASHION_MNIST_CLASSES[top1]}, civet ${civet.predictions[i].top[0].label}`);
      assert.equal(await page.locator('#top5 tbody tr').count(), 5);
      const pct = await page.locator('#top1 td.p').innerText();
      assert.ok(Math.abs(parseFloat(pct) - 100 * civet.predictions[i].top[0].probability) < 0.02, `${pct} vs ${civet.predictions[i].top[0].probability}`);
      assert.match(await page.locator('#time').innerText(), /\d+\.\d ms/);
    }
    // a file the user picks goes the same way
    await page.evaluate("document.body.dataset.state = 'ready'");
    await page.locator('#file').setInputFiles(path.join(FMNIST_SAMPLES, samples[1].file));
    await page.waitForFunction("document.body.dataset.state === 'classified'", null, { timeout: 30_000 });
    assert.equal(Number(await page.locator('#top1').getAttribute('data-index')), civet.predictions[1].top[0].index);
    assert.equal((await page.locator('#top1 td').first().innerText()).trim(), civet.predictions[1].top[0].label);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.deepEqual(external, [], 'the page fetches nothing from elsewhere');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('static server: 127.0.0.1 only, nothing outside the folder', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-static-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<p>hi</p>');
  fs.writeFileSync(path.join(os.tmpdir(), 'civet-static-secret.txt'), 'secret');
  const s = await serveStatic(dir);
  try {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const ok = await fetch(s.url);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await ok.text(), '<p>hi</p>');
    assert.equal((await fetch(`${s.url}..%2Fcivet-static-secret.txt`)).status, 403);
    assert.equal((await fetch(`${s.url}missing.js`)).status, 404);
    assert.equal((await fetch(s.url, { method: 'POST' })).status, 405);
  } finally {
    await s.close();
  }
});
