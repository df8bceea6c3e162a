// Self-contained HTML reports: one file, inline CSS and SVG, no fonts or network, so it can be
// attached to an issue, mailed, or opened from an air-gapped training box as it is. Run reports
// have no script; study reports carry one small inline script (sorting the table by a column),
// and link the images the runs produced by paths relative to the page.
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic';
import { fmtDuration } from '../util/format';
import { loadRun, runRow, type RunData } from './runs';
import { color, esc, intervalPlot, linePlot, type Series } from './svg';
import { renderGains, renderReadouts, type StudyGain } from './gains';

const CSS = `
:root { color-scheme: light; }
body { margin: 0; background: #f6f7f9; color: #222; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { background: #1f2a37; color: #fff; padding: 18px 28px; }
header h1 { margin: 0; font-size: 20px; font-weight: 600; }
header .sub { color: #b8c2cc; font-size: 13px; margin-top: 4px; }
main { padding: 20px 28px 40px; max-width: 1320px; }
h2 { font-size: 16px; margin: 26px 0 10px; color: #1f2a37; }
.card { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 10px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
.grid svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; overflow: hidden; font-variant-numeric: tabular-nums; }
th, td { padding: 7px 12px; text-align: right; border-bottom: 1px solid #eef0f2; white-space: nowrap; }
th { background: #f0f2f5; font-weight: 600; font-size: 13px; color: #444; }
td.text, th.text { text-align: left; }
tbody tr:last-child td { border-bottom: none; }
tbody tr:hover td { background: #f8fafc; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 8px; vertical-align: baseline; }
.best { font-weight: 700; }
.muted { color: #888; }
.warn { background: #fff8e1; border: 1px solid #f3d37a; border-radius: 6px; padding: 8px 12px; margin: 12px 0; font-size: 13px; }
.claims { list-style: none; padding: 0; margin: 0; }
.claims li { background: #fff; border: 1px solid #e1e4e8; border-left: 4px solid; border-radius: 6px; padding: 8px 12px; margin-bottom: 8px; }
.claims li.holds { border-left-color: #2e9d4f; }
.claims li.fails { border-left-color: #d64545; }
.claims li.inconclusive { border-left-color: #c99a06; }
.inconclusive .badge { background: #c99a06; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; margin-right: 8px; color: #fff; }
.holds .badge { background: #2e9d4f; }
.fails .badge { background: #d64545; }
.detail { color: #555; font-size: 13px; margin-top: 3px; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: ' ▲'; }
table.sortable th[aria-sort=descending]::after { content: ' ▼'; }
td.best { font-weight: 700; background: #e8f5e9; }
.images li { margin: 4px 0; }
details { margin-top: 12px; }
summary { cursor: pointer; color: #1f5fa8; }
`;

function page(title: string, sub: string, body: string, script = ''): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><header><h1>${esc(title)}</h1><div class="sub">${esc(sub)}</div></header>
<main>${body}</main>${script ? `<script>${script}</script>` : ''}</body></html>
`;
}

// Click a column header of a table.sortable to sort its rows by that column (again: the other
// way). Cells sort by data-v (a number) where they have one, else by their text; empty cells last.
const SORT_SCRIPT = `document.querySelectorAll('table.sortable').forEach(function (t) {
  var ths = t.tHead.rows[0].cells;
  Array.prototype.forEach.call(ths, function (th, i) {
    th.addEventListener('click', function () {
      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      Array.prototype.forEach.call(ths, function (h) { h.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      var key = function (r) { var c = r.cells[i], v = c.getAttribute('data-v'); return v !== null ? (v === '' ? null : Number(v)) : c.textContent.trim().toLowerCase(); };
      var rows = Array.prototype.slice.call(t.tBodies[0].rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
        return dir * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
      });
      rows.forEach(function (r) { t.tBodies[0].appendChild(r); });
    });
  });
});`;

const DASH = '<span class="muted">—</span>';
const pct = (v: number | undefined) => (v === undefined ? DASH : `${(v * 100).toFixed(2)}%`);
const fixed = (v: number | undefined, d: number) => (v === undefined ? DASH : v.toFixed(d));

function fmtCount(n: number | undefined): string {
  if (n === undefined) return DASH;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function table(head: { label: string; text?: boolean }[], rows: string[][], cls: string): string {
  const th = head.map((h) => `<th${h.text ? ' class="text"' : ''}>${esc(h.label)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${head[i].text ? ' class="text"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

function runsTable(runs: RunData[]): string {
  const rows = runs.map(runRow);
  const finals = rows.map((r) => r.finalTop1).filter((v): v is number => v !== undefined);
  const bestFinal = finals.length > 1 ? Math.max(...finals) : undefined;
  const body = rows.map((r, i) => [
    `<span class="swatch" style="background:${color(i)}"></span>${esc(r.name)}`,
    r.method ? esc(r.method) : DASH,
    r.model ? esc(r.model) : DASH,
    pct(r.bestTop1),
    // Bold the winner only when there is something to compare.
    r.finalTop1 !== undefined && r.finalTop1 === bestFinal ? `<span class="best">${pct(r.finalTop1)}</span>` : pct(r.finalTop1),
    pct(r.top5),
    fixed(r.ece, 4),
    fmtCount(r.params),
    r.wallTimeSec === undefined ? DASH : fmtDuration(r.wallTimeSec),
    r.imgPerSec === undefined ? DASH : Math.round(r.imgPerSec).toLocaleString('en-US'),
  ]);
  const head = [
    { label: 'run', text: true }, { label: 'method', text: true }, { label: 'model', text: true },
    { label: 'best top-1' }, { label: 'final top-1' }, { label: 'top-5' }, { label: 'ECE' },
    { label: 'params' }, { label: 'wall time' }, { label: 'img/s' },
  ];
  return table(head, body, 'runs');
}

const pctTick = (v: number) => `${+(v * 100).toFixed(1)}%`;

export function renderReport(runDirs: string[], title = 'civet training report'): string {
  const runs = runDirs.map(loadRun);
  const series = (f: (r: RunData) => [number, number][]): Series[] => runs.map((r, i) => ({ name: r.name, color: color(i), points: f(r) }));
  const num = (v: unknown) => (typeof v === 'number' ? v : NaN);

  const plots = [
    linePlot(series((r) => r.train.map((t) => [t.step, num(t.loss)])), { title: 'Training loss', xLabel: 'step', yLabel: 'loss' }),
    // eval records count epochs from 0 (the epoch just finished); the axis counts them from 1
    linePlot(series((r) => r.evals.map((e) => [e.epoch + 1, num(e.top1)])), { title: 'Validation top-1 accuracy', xLabel: 'epoch', yLabel: 'top-1', markers: true, yFormat: pctTick, xCount: true }),
    linePlot(series((r) => r.evals.map((e) => [e.epoch + 1, num(e.loss)])), { title: 'Validation loss', xLabel: 'epoch', yLabel: 'loss (cross-entropy)', markers: true, xCount: true }),
    linePlot(series((r) => r.train.filter((t) => t.lr !== undefined).map((t) => [t.step, num(t.lr)])), { title: 'Learning rate', xLabel: 'step', yLabel: 'learning rate' }),
  ];
  // One plot per named loss term (ce, kd, ...), in order of first appearance across runs.
  const terms = [...new Set(runs.flatMap((r) => r.train.flatMap((t) => Object.keys(t.terms ?? {}))))];
  for (const term of terms) {
    plots.push(linePlot(series((r) => r.train.filter((t) => t.terms && term in t.terms).map((t) => [t.step, num(t.terms![term])])), { title: `Loss term: ${term}`, xLabel: 'step', yLabel: term }));
  }

  const warnings = runs.flatMap((r) => r.warnings.map((w) => `${r.name}: ${w}`));
  const body = [
    warnings.length ? `<div class="warn">${warnings.map(esc).join('<br>')}</div>` : '',
    `<h2>Runs</h2>${runsTable(runs)}${renderReadouts(runs)}`,
    `<h2>Curves</h2><div class="grid">${plots.map((p) => `<div class="card">${p}</div>`).join('\n')}</div>`,
    `<details><summary>Run directories</summary><ul>${runs.map((r) => `<li><code>${esc(path.resolve(r.dir))}</code></li>`).join('')}</ul></details>`,
  ].join('\n');
  return page(title, `${runs.length} run${runs.length === 1 ? '' : 's'} · generated ${new Date().toISOString().replace('T', ' ').slice(0, 19)} UTC`, body);
}

/** Compare training runs: loss, loss terms, validation accuracy, learning rate, and a summary table. */
export function writeReport(runDirs: string[], outFile: string, title?: string): void {
  writeFileAtomic(outFile, renderReport(runDirs, title));
}

// ---- study reports: groups of seeds, mean ± std, and checked claims ----

export interface StudyRun {
  seed: number;
  [metric: string]: number | string | undefined;
}

export interface StudyGroup {
  name: string;
  runs: StudyRun[];
}

export interface StudyClaim {
  text: string;
  /** true only when the ordering holds by more than the seeds' spread (verdict 'holds') */
  holds: boolean;
  /** 'inconclusive': the means are in order, but a margin is within the spread over seeds */
  verdict?: ClaimVerdict;
  detail?: string;
}

export type ClaimVerdict = 'holds' | 'inconclusive' | 'does not hold';

/** A claim's verdict (claims written before verdicts existed: from `holds`). */
export function claimVerdict(c: StudyClaim): ClaimVerdict {
  return c.verdict ?? (c.holds ? 'holds' : 'does not hold');
}
export const VERDICT_BADGE: Readonly<Record<ClaimVerdict, string>> = { holds: '✓ holds', inconclusive: '? inconclusive', 'does not hold': '✗ does not hold' };

export interface Study {
  title: string;
  description?: string;
  groups: StudyGroup[];
  claims: StudyClaim[];
  /** the group the Δ column is measured against (the no-KD / CE row); none: no Δ column */
  baseline?: string;
  /** groups shown but not ranked (teachers): never highlighted as best, no Δ */
  references?: string[];
  /** pictures the runs produced (DeepInversion grids, image files in run folders), linked from the page */
  images?: { label: string; file: string }[];
  /** distillation gains over the same architecture without teachers (report/gains.ts) */
  gains?: StudyGain[];
}

/** Mean and sample standard deviation (n - 1); std is NaN for a single value. */
export function meanStd(xs: number[]): { mean: number; std: number } {
  const n = xs.length;
  const mean = n ? xs.reduce((a, b) => a + b, 0) / n : NaN;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, std };
}

const isPct = (k: string) => /^(top\d+|acc|accuracy)/i.test(k);
const PREFERRED = ['top1', 'top5', 'ece', 'loss'];

/** Accuracies as percentages with 2 decimals; others to 3 significant digits of `ref` (the mean). */
function fmtMetric(k: string, v: number, ref = v): string {
  if (!Number.isFinite(v)) return String(v);
  if (isPct(k)) return (v * 100).toFixed(2);
  const d = ref === 0 || !Number.isFinite(ref) ? 3 : Math.min(8, Math.max(0, 2 - Math.floor(Math.log10(Math.abs(ref)))));
  return v.toFixed(d);
}

function metricKeys(groups: StudyGroup[]): string[] {
  const seen = new Set<string>();
  for (const g of groups) for (const r of g.runs) for (const [k, v] of Object.entries(r)) if (k !== 'seed' && typeof v === 'number') seen.add(k);
  return [...PREFERRED.filter((k) => seen.has(k)), ...[...seen].filter((k) => !PREFERRED.includes(k))];
}

/** Higher is better for accuracies; lower for everything else a study reports (ECE, loss, time, size). */
const higherIsBetter = (k: string) => isPct(k);

export function renderStudyReport(study: Study, o: { dir?: string } = {}): string {
  const keys = metricKeys(study.groups);
  const vals = (g: StudyGroup, k: string) => g.runs.map((r) => r[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const mean = (g: StudyGroup, k: string) => { const xs = vals(g, k); return xs.length ? meanStd(xs).mean : NaN; };
  const cell = (g: StudyGroup, k: string) => {
    const xs = vals(g, k);
    if (!xs.length) return DASH;
    const { mean, std } = meanStd(xs);
    const unit = isPct(k) ? '%' : '';
    return Number.isNaN(std) ? `${fmtMetric(k, mean)}${unit}` : `${fmtMetric(k, mean)} ± ${fmtMetric(k, std, mean)}${unit}`;
  };
  const refs = new Set(study.references ?? []);
  const ranked = study.groups.filter((g) => !refs.has(g.name));
  // the best mean of each column among the ranked groups
  const best = new Map(keys.map((k) => {
    const ms = ranked.map((g) => mean(g, k)).filter(Number.isFinite);
    return [k, ms.length > 1 ? (higherIsBetter(k) ? Math.max(...ms) : Math.min(...ms)) : NaN] as const;
  }));
  const main = keys[0];
  const base = study.baseline === undefined ? undefined : study.groups.find((g) => g.name === study.baseline);
  if (study.baseline !== undefined && !base) throw new Error(`study report: baseline '${study.baseline}' is not one of the groups`);
  const scale = main && isPct(main) ? 100 : 1;
  const deltaOf = (g: StudyGroup) => (base && main && !refs.has(g.name) ? scale * (mean(g, main) - mean(base, main)) : NaN);
  const deltas = ranked.filter((g) => g !== base).map(deltaOf).filter(Number.isFinite);
  const bestDelta = deltas.length ? Math.max(...deltas) : NaN;
  const td = (html: string, v: number | string | null, cls = '') => `<td${cls ? ` class="${cls}"` : ''}${v === null ? '' : ` data-v="${typeof v === 'number' ? (Number.isFinite(v) ? v : '') : esc(v)}"`}>${html}</td>`;
  const head = [
    '<th class="text">group</th>', '<th>seeds</th>',
    ...keys.flatMap((k) => [`<th>${esc(isPct(k) ? `${k} (%)` : k)}</th>`, ...(base && k === main ? [`<th title="mean ${esc(main)} minus the baseline's mean">Δ ${esc(main)} vs ${esc(base.name)}${isPct(main) ? ' (points)' : ''}</th>`] : [])]),
  ];
  const rows = study.groups.map((g, i) => {
    const cells = [
      `<td class="text">${`<span class="swatch" style="background:${color(i)}"></span>${esc(g.name)}`}${refs.has(g.name) ? ' <span class="muted">(reference)</span>' : ''}</td>`,
      td(String(g.runs.length), g.runs.length),
    ];
    for (const k of keys) {
      const m = mean(g, k);
      cells.push(td(cell(g, k), m, !refs.has(g.name) && Number.isFinite(m) && m === best.get(k) ? 'best' : ''));
      if (base && k === main) {
        const d = deltaOf(g);
        cells.push(g === base ? td('baseline', 0) : td(Number.isFinite(d) ? `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d).toFixed(isPct(main) ? 2 : 4)}` : DASH, d, Number.isFinite(d) && d === bestDelta ? 'best' : ''));
      }
    }
    return `<tr>${cells.join('')}</tr>`;
  });
  const summary = `<table class="groups sortable"><thead><tr>${head.join('')}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>` +
    `<p class="muted">Click a column to sort by it. Best of each column in bold${refs.size ? ` (references — ${[...refs].map(esc).join(', ')} — not ranked)` : ''}` +
    `${base ? `; Δ is each group's mean ${esc(main)} minus that of the baseline, ${esc(base.name)}` : ''}.</p>`;
  const images = (study.images ?? []).length
    ? `<h2>Images the runs produced</h2><ul class="images">${study.images!.map((im) => {
        const href = o.dir && path.isAbsolute(im.file) ? path.relative(o.dir, im.file).split(path.sep).join('/') : im.file;
        return `<li><a href="${esc(encodeURI(href))}">${esc(im.label)}</a> <span class="muted">${esc(href)}</span></li>`;
      }).join('')}</ul>`
    : '';
  const claims = study.claims.length
    ? `<ul class="claims">${study.claims.map((c) => `<li class="${{ holds: 'holds', inconclusive: 'inconclusive', 'does not hold': 'fails' }[claimVerdict(c)]}"><span class="badge">${VERDICT_BADGE[claimVerdict(c)]}</span>${esc(c.text)}${c.detail ? `<div class="detail">${esc(c.detail)}</div>` : ''}</li>`).join('\n')}</ul>`
    : '<p class="muted">No claims checked.</p>';
  // The headline metric gets a plot: each seed as a faint dot, mean ± std as a whisker.
  const plot = main
    ? intervalPlot(
        study.groups.map((g, i) => ({ name: g.name, color: color(i), values: vals(g, main), ...meanStd(vals(g, main)) })),
        { title: `${main}: mean ± std over seeds`, xLabel: main, yLabel: '', yFormat: isPct(main) ? pctTick : undefined, width: 760 },
      )
    : '';
  const perSeed = table(
    [{ label: 'group', text: true }, { label: 'seed' }, ...keys.map((k) => ({ label: k }))],
    study.groups.flatMap((g) => g.runs.map((r) => [esc(g.name), esc(r.seed), ...keys.map((k) => (typeof r[k] === 'number' ? esc(fmtMetric(k, r[k] as number)) : DASH))])),
    'seeds',
  );
  const nHold = study.claims.filter((c) => c.holds).length;
  const body = [
    study.description ? `<p>${esc(study.description)}</p>` : '',
    `<h2>Claims</h2>${claims}`,
    renderGains(study.gains ?? []),
    `<h2>Results (mean ± std over seeds)</h2>${summary}`,
    plot ? `<h2>Spread over seeds</h2><div class="card" style="max-width:780px">${plot}</div>` : '',
    images,
    `<details><summary>Per-seed results</summary>${perSeed}</details>`,
  ].join('\n');
  const sub = `${study.groups.length} groups · ${study.claims.length ? `${nHold}/${study.claims.length} claims hold · ` : ''}generated ${new Date().toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  return page(study.title, sub, body, SORT_SCRIPT);
}

/** Grouped results across seeds with checked claims; used by the experiment command. Image paths
 *  are linked relative to the page's folder. */
export function writeStudyReport(study: Study, outFile: string): void {
  writeFileAtomic(outFile, renderStudyReport(study, { dir: path.dirname(path.resolve(outFile)) }));
}
