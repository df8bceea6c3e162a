// The browser side of `civet serve` / `civet export --web`: loads model.onnx with
// onnxruntime-web (WebAssembly, one thread), turns an image into the model's input the way the
// run's eval transform does (model.json: stored size and channels, normalisation, input size),
// and shows the top-5 classes with probabilities and the inference time.
import * as ort from './ort/ort.wasm.bundle.min.mjs';

ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
ort.env.wasm.numThreads = 1; // threads need a cross-origin-isolated page; one is plenty here

const $ = (id) => document.getElementById(id);
let session, meta;

/** torch.nn.functional.interpolate(mode='bilinear', align_corners=False) of one [h, w] plane. */
function bilinear(src, h, w, H, W) {
  if (h === H && w === W) return src;
  const out = new Float32Array(H * W);
  const sy = h / H, sx = w / W;
  for (let Y = 0; Y < H; Y++) {
    const y = Math.max((Y + 0.5) * sy - 0.5, 0);
    const y0 = Math.min(Math.floor(y), h - 1), y1 = Math.min(y0 + 1, h - 1), ly = y - y0;
    for (let X = 0; X < W; X++) {
      const x = Math.max((X + 0.5) * sx - 0.5, 0);
      const x0 = Math.min(Math.floor(x), w - 1), x1 = Math.min(x0 + 1, w - 1), lx = x - x0;
      out[Y * W + X] = (1 - ly) * ((1 - lx) * src[y0 * w + x0] + lx * src[y0 * w + x1]) + ly * ((1 - lx) * src[y1 * w + x0] + lx * src[y1 * w + x1]);
    }
  }
  return out;
}

/** Pixels at the dataset's stored size → [1, C, H, W] float32: /255, normalise, resize, repeat grey. */
function toInput(img) {
  const { channels, height: h, width: w } = meta.source;
  const [C, H, W] = meta.input;
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(img, 0, 0, w, h);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const planes = [];
  for (let c = 0; c < channels; c++) {
    const p = new Float32Array(h * w);
    for (let i = 0; i < h * w; i++) {
      // one channel: the luma of the pixel (exact for grey images, whose R = G = B)
      const v = channels === 1 ? (rgba[4 * i] === rgba[4 * i + 1] && rgba[4 * i] === rgba[4 * i + 2] ? rgba[4 * i] : Math.round(0.2126 * rgba[4 * i] + 0.7152 * rgba[4 * i + 1] + 0.0722 * rgba[4 * i + 2])) : rgba[4 * i + c];
      p[i] = (v / 255 - meta.normalize.mean[c]) / meta.normalize.std[c];
    }
    planes.push(bilinear(p, h, w, H, W));
  }
  const x = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) x.set(planes[channels === 1 ? 0 : c], c * H * W);
  return new ort.Tensor('float32', x, [1, C, H, W]);
}

async function classify(img, label) {
  const x = toInput(img);
  const t0 = performance.now();
  const out = await session.run({ [session.inputNames[0]]: x });
  const ms = performance.now() - t0;
  const z = Array.from(out[session.outputNames[0]].data);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  const top = e.map((v, i) => [v / s, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 5);
  const body = $('top5').tBodies[0];
  body.replaceChildren(...top.map(([p, i], r) => {
    const tr = document.createElement('tr');
    tr.dataset.index = String(i);
    if (r === 0) tr.id = 'top1';
    const name = document.createElement('td'); name.textContent = meta.classNames[i] ?? String(i);
    const bar = document.createElement('td'); bar.className = 'bar';
    const fill = document.createElement('div'); fill.style.width = `${(100 * p).toFixed(1)}%`; bar.append(fill);
    const pct = document.createElement('td'); pct.className = 'p'; pct.textContent = `${(100 * p).toFixed(2)}%`;
    tr.append(name, bar, pct);
    return tr;
  }));
  $('time').textContent = `· ${ms.toFixed(1)} ms`;
  $('status').textContent = `classified ${label}`;
  document.body.dataset.state = 'classified';
}

function showAndClassify(url, label) {
  const img = new Image();
  img.onload = () => { $('preview').src = url; classify(img, label).catch(fail); };
  img.onerror = () => fail(new Error(`${label} is not an image the browser can read`));
  img.src = url;
}

function fail(e) {
  $('status').textContent = `error: ${e.message}`;
  document.body.dataset.state = 'error';
}

function pickFile(file) {
  if (!file) return;
  for (const b of $('samples').children) b.classList.remove('active');
  showAndClassify(URL.createObjectURL(file), file.name);
}

async function main() {
  meta = await (await fetch('model.json')).json();
  $('title').textContent = `civet · ${meta.run ?? meta.model}`;
  $('subtitle').textContent = `${meta.model}${meta.readout ? ` (read-out ${meta.readout})` : ''} · ${meta.classNames.length} classes · input ${meta.input.join('×')} · onnxruntime-web ${ort.env.versions?.web ?? ''} (WebAssembly)`;
  session = await ort.InferenceSession.create('model.onnx', { executionProviders: ['wasm'] });
  $('status').textContent = 'model loaded: drop an image or pick a test image';
  document.body.dataset.state = 'ready';
  const samples = await (await fetch('samples/index.json')).json().catch(() => []);
  for (const s of samples) {
    const b = document.createElement('button');
    b.title = `${s.file} (label: ${s.className})`;
    b.dataset.file = s.file;
    const im = document.createElement('img');
    im.src = `samples/${s.file}`; im.alt = s.className;
    b.append(im);
    b.onclick = () => { for (const o of $('samples').children) o.classList.toggle('active', o === b); showAndClassify(`samples/${s.file}`, s.file); };
    $('samples').append(b);
  }
  $('file').onchange = (ev) => pickFile(ev.target.files[0]);
  const drop = $('drop');
  drop.ondragover = (ev) => { ev.preventDefault(); drop.classList.add('over'); };
  drop.ondragleave = () => drop.classList.remove('over');
  drop.ondrop = (ev) => { ev.preventDefault(); drop.classList.remove('over'); pickFile(ev.dataTransfer.files[0]); };
}

main().catch(fail);
