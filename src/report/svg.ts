// Minimal inline-SVG plotting: line plots and dot-with-error-bar plots with axes, ticks and a
// legend. Reports must be a single self-contained file, so no charting library or script.

/** Tableau 10: distinct, colour-blind-friendly enough, readable on white. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export const color = (i: number): string => PALETTE[i % PALETTE.length];

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Draw a dot at every point (for sparse series such as per-epoch evals). */
  markers?: boolean;
  /** Format y tick labels, e.g. as percentages. */
  yFormat?: (v: number) => string;
  /** x counts from 1 in whole numbers (epochs): the axis starts at 1, ticks are 1 and integer multiples of the step */
  xCount?: boolean;
}

/** Ticks of a counting axis (epochs 1…n): starts at 1, whole-number steps. */
export function countTicks(hi: number, target = 6): { lo: number; hi: number; step: number; ticks: number[] } {
  const top = Math.max(2, Math.ceil(hi));
  const step = Math.max(1, Math.round(niceTicks(0, top, target).step));
  const ticks = [1];
  for (let t = step; t <= top; t += step) if (t > 1) ticks.push(t);
  return { lo: 1, hi: top, step, ticks };
}

/** "Nice" tick positions (1, 2, 2.5, 5 x 10^k) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): { lo: number; hi: number; step: number; ticks: number[] } {
  if (!(hi > lo)) {
    // Flat data still needs a visible range around it.
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return niceTicks(lo - pad, hi + pad, target);
  }
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const nlo = Math.floor(lo / step + 1e-9) * step;
  const nhi = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; nlo + i * step <= nhi + step * 1e-9; i++) ticks.push(+(nlo + i * step).toPrecision(12));
  return { lo: nlo, hi: nhi, step, ticks };
}

/** Tick label with just enough decimals for the tick step. */
export function fmtTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 && step >= 1000) return `${+(v / 1000).toPrecision(4)}k`;
  // Tiny steps (learning rates): exponent form with trailing mantissa zeros trimmed, e.g. 2.5e-4.
  if (step < 1e-3) return v.toExponential(3).replace(/\.?0+e/, 'e');
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9) + (String(step / 10 ** Math.floor(Math.log10(step))).includes('.') ? 1 : 0));
  return v.toFixed(decimals);
}

/** Bucket means so a 100k-step run does not become a megabyte of path data. */
function decimate(pts: [number, number][], max: number): [number, number][] {
  if (pts.length <= max) return pts;
  const out: [number, number][] = [];
  const per = pts.length / max;
  for (let b = 0; b < max; b++) {
    const chunk = pts.slice(Math.floor(b * per), Math.floor((b + 1) * per));
    const fin = chunk.filter((p) => Number.isFinite(p[1]));
    // Keep a gap if a whole bucket diverged, rather than silently bridging it.
    if (!fin.length) out.push([chunk[0][0], NaN]);
    else out.push([fin.reduce((s, p) => s + p[0], 0) / fin.length, fin.reduce((s, p) => s + p[1], 0) / fin.length]);
  }
  return out;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';
const n2 = (v: number) => +v.toFixed(2);

interface Frame {
  svg: string[];
  x: (v: number) => number;
  y: (v: number) => number;
  bottom: number;
}

/** Title, grid, axes and tick labels; returns scale functions for the plot area. */
function frame(o: PlotOptions, xs: number[], ys: number[], legendH: number, left = 64): Frame {
  const W = o.width ?? 560;
  // The legend adds height rather than squeezing the plot area.
  const H = (o.height ?? 300) + legendH;
  const m = { l: left, r: 18, t: 34, b: 46 + legendH };
  const xt = o.xCount ? countTicks(Math.max(...xs)) : niceTicks(Math.min(...xs), Math.max(...xs), 6);
  const yt = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const x = (v: number) => m.l + ((v - xt.lo) / (xt.hi - xt.lo)) * pw;
  const y = (v: number) => m.t + ph - ((v - yt.lo) / (yt.hi - yt.lo)) * ph;
  const yf = o.yFormat ?? ((v: number) => fmtTick(v, yt.step));
  const s: string[] = [];
  s.push(`<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}" ${FONT} font-size="12">`);
  s.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600" fill="#222">${esc(o.title)}</text>`);
  s.push('<g class="grid" stroke="#e6e6e6" stroke-width="1">');
  for (const t of yt.ticks) s.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${n2(y(t))}" y2="${n2(y(t))}"/>`);
  for (const t of xt.ticks) s.push(`<line y1="${m.t}" y2="${m.t + ph}" x1="${n2(x(t))}" x2="${n2(x(t))}"/>`);
  s.push('</g><g class="axes" fill="#555">');
  s.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#888"/><line x1="${m.l}" x2="${W - m.r}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#888"/>`);
  for (const t of yt.ticks) s.push(`<text x="${m.l - 6}" y="${n2(y(t) + 4)}" text-anchor="end">${esc(yf(t))}</text>`);
  for (const t of xt.ticks) s.push(`<text x="${n2(x(t))}" y="${m.t + ph + 16}" text-anchor="middle">${esc(fmtTick(t, xt.step))}</text>`);
  s.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 34}" text-anchor="middle" fill="#333">${esc(o.xLabel)}</text>`);
  s.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(o.yLabel)}</text>`);
  s.push('</g>');
  return { svg: s, x, y, bottom: m.t + ph + 46 };
}

/** Horizontal legend rows under the x label, wrapping by estimated text width. */
function legend(items: { name: string; color: string }[], width: number, top: number): { svg: string; height: number } {
  const rows: string[] = [];
  let x = 64;
  let row = 0;
  for (const it of items) {
    const w = 26 + it.name.length * 6.8 + 16;
    if (x + w > width - 10 && x > 64) ((x = 64), row++);
    const yy = top + row * 18 + 6;
    rows.push(`<g class="legend-item"><line x1="${x}" x2="${x + 18}" y1="${yy}" y2="${yy}" stroke="${it.color}" stroke-width="3"/><text x="${x + 24}" y="${yy + 4}" fill="#333">${esc(it.name)}</text></g>`);
    x += w;
  }
  return { svg: `<g class="legend">${rows.join('')}</g>`, height: items.length ? (row + 1) * 18 + 4 : 0 };
}

function emptyPlot(o: PlotOptions): string {
  const W = o.width ?? 560;
  const H = o.height ?? 300;
  return `<svg class="plot empty" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ${FONT} font-size="13"><text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600" fill="#222">${esc(o.title)}</text><text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#999">no data</text></svg>`;
}

export function linePlot(series: Series[], o: PlotOptions): string {
  // names are never cut: the plot widens to fit the longest legend entry
  o = { ...o, width: Math.max(o.width ?? 560, Math.ceil(64 + 26 + Math.max(0, ...series.map((sr) => sr.name.length)) * 6.8 + 26)) };
  const data = series.map((s) => ({ ...s, points: decimate([...s.points].sort((a, b) => a[0] - b[0]), 1500) }));
  const fin = data.flatMap((s) => s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])));
  if (!fin.length) return emptyPlot(o);
  const W = o.width ?? 560;
  // Runs without data in this plot stay out of its legend (the colours are still per run).
  const shown = data.filter((sr) => sr.points.some((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])));
  const lg = legend(shown, W, 0);
  const f = frame(o, fin.map((p) => p[0]), fin.map((p) => p[1]), lg.height);
  const s = f.svg;
  for (const sr of data) {
    // Non-finite values (a diverged loss logged as NaN) break the line instead of plotting 0.
    let d = '';
    let pen = false;
    for (const [px, py] of sr.points) {
      if (!Number.isFinite(px) || !Number.isFinite(py)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${n2(f.x(px))} ${n2(f.y(py))}`;
      pen = true;
    }
    if (!d) continue;
    s.push(`<path class="series" d="${d}" fill="none" stroke="${sr.color}" stroke-width="1.8" stroke-linejoin="round"><title>${esc(sr.name)}</title></path>`);
    const pts = sr.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (o.markers || pts.length === 1) {
      for (const [px, py] of pts) s.push(`<circle cx="${n2(f.x(px))}" cy="${n2(f.y(py))}" r="3" fill="${sr.color}"><title>${esc(`${sr.name}: ${px}, ${py}`)}</title></circle>`);
    }
  }
  s.push(legend(shown, W, f.bottom).svg, '</svg>');
  return s.join('');
}

export interface Interval {
  name: string;
  color: string;
  mean: number;
  std: number;
  /** Individual values (seeds), drawn faintly behind the mean. */
  values: number[];
}

/**
 * Where the spread plot's axis ends: the values of the groups that are not far outliers. A few
 * groups far from the rest (a teacher at 90 %, data-free methods at 30 %) would otherwise squeeze a
 * cluster of 74–79 % into a few pixels; those are drawn as a labelled arrow at the edge instead.
 * Far = outside the quartiles by more than 3 interquartile ranges (Tukey's far-out fences).
 */
export function fittedRange(means: number[]): { lo: number; hi: number } {
  const xs = means.filter(Number.isFinite).sort((a, b) => a - b);
  if (xs.length < 4) return { lo: -Infinity, hi: Infinity };
  const q = (p: number) => { const i = p * (xs.length - 1), f = Math.floor(i); return xs[f] + (xs[Math.min(f + 1, xs.length - 1)] - xs[f]) * (i - f); };
  const q1 = q(0.25), q3 = q(0.75);
  const iqr = Math.max(q3 - q1, (xs[xs.length - 1] - xs[0]) * 0.02);
  return { lo: q1 - 3 * iqr, hi: q3 + 3 * iqr };
}

/** One row per group: mean as a dot, ±1 std as a whisker, each seed as a faint dot. */
export function intervalPlot(items: Interval[], o: PlotOptions): string {
  const fit = fittedRange(items.map((it) => it.mean));
  const inside = (v: number) => v >= fit.lo && v <= fit.hi;
  const onAxis = items.filter((it) => !Number.isFinite(it.mean) || inside(it.mean));
  const xs = onAxis.flatMap((it) => [it.mean - (it.std || 0), it.mean + (it.std || 0), ...it.values]).filter(Number.isFinite).filter(inside);
  if (!xs.length) return emptyPlot(o);
  const rowH = 28;
  // group names are never cut: the label column is as wide as the longest, the plot keeps its width
  const labelW = 16 + Math.max(...items.map((it) => it.name.length)) * 7;
  const W = Math.max(o.width ?? 560, labelW + 380);
  const H = 34 + items.length * rowH + 46 + 8;
  const m = { l: labelW, r: 18, t: 34 };
  const t = niceTicks(Math.min(...xs), Math.max(...xs), 6);
  const pw = W - m.l - m.r;
  const x = (v: number) => m.l + ((v - t.lo) / (t.hi - t.lo)) * pw;
  const xf = o.yFormat ?? ((v: number) => fmtTick(v, t.step));
  const bottom = m.t + items.length * rowH;
  const s: string[] = [];
  s.push(`<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}" data-axis-lo="${t.lo}" data-axis-hi="${t.hi}" ${FONT} font-size="12">`);
  s.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600" fill="#222">${esc(o.title)}</text>`);
  for (const tk of t.ticks) {
    s.push(`<line x1="${n2(x(tk))}" x2="${n2(x(tk))}" y1="${m.t}" y2="${bottom}" stroke="#e6e6e6"/>`);
    s.push(`<text class="tick" x="${n2(x(tk))}" y="${bottom + 16}" text-anchor="middle" fill="#555">${esc(xf(tk))}</text>`);
  }
  s.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${bottom}" y2="${bottom}" stroke="#888"/>`);
  s.push(`<text x="${m.l + pw / 2}" y="${bottom + 34}" text-anchor="middle" fill="#333">${esc(o.xLabel)}</text>`);
  items.forEach((it, i) => {
    const cy = m.t + i * rowH + rowH / 2;
    s.push(`<text class="label" x="${m.l - 8}" y="${cy + 4}" text-anchor="end" fill="#333">${esc(it.name)}</text>`);
    if (Number.isFinite(it.mean) && !inside(it.mean)) {
      // off the fitted axis: an arrow at the edge with the value
      const left = it.mean < t.lo;
      s.push(`<text class="off-axis" x="${left ? m.l + 4 : W - m.r - 4}" y="${cy + 4}" text-anchor="${left ? 'start' : 'end'}" fill="${it.color}">${left ? '◀ ' : ''}${esc(xf(it.mean))}${Number.isFinite(it.std) ? ` ± ${esc(xf(it.std))}` : ''}${left ? '' : ' ▶'}<title>${esc(`${it.name}: off the axis, which fits the other groups`)}</title></text>`);
      return;
    }
    for (const v of it.values.filter(Number.isFinite).filter(inside)) s.push(`<circle cx="${n2(x(v))}" cy="${cy}" r="3" fill="${it.color}" fill-opacity="0.3"/>`);
    if (!Number.isFinite(it.mean)) return;
    const sd = Number.isFinite(it.std) ? it.std : 0;
    const a = Math.max(t.lo, it.mean - sd), b = Math.min(t.hi, it.mean + sd);
    s.push(`<path class="series" d="M${n2(x(a))} ${cy}L${n2(x(b))} ${cy}M${n2(x(a))} ${cy - 5}L${n2(x(a))} ${cy + 5}M${n2(x(b))} ${cy - 5}L${n2(x(b))} ${cy + 5}" stroke="${it.color}" stroke-width="2" fill="none"/>`);
    s.push(`<circle cx="${n2(x(it.mean))}" cy="${cy}" r="5" fill="${it.color}"><title>${esc(`${it.name}: ${xf(it.mean)} ± ${xf(sd)}`)}</title></circle>`);
  });
  s.push('</svg>');
  return s.join('');
}
