/**
 * report.html: one self-contained page (inline CSS and SVG drawn here, no script, no network) with
 * the headline table, confusion matrices, per-entity-type bars, reliability diagrams, the A/B deltas
 * with their intervals, the largest disagreements and the drift table. Pure: report in, string out.
 */
import type { Report } from './run';

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (x: unknown): string => (typeof x === 'number' && Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '–');
const num = (x: unknown, digits = 3): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–');
const signedPct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

const COLORS = ['#2563eb', '#ea580c'];

interface Bin {
  lo: number;
  hi: number;
  n: number;
  accuracy: number | null;
  confidence: number | null;
}

/** Headline metrics per kind of task, in display order. */
function headline(task: string, m: Record<string, unknown>): Array<[string, string]> {
  const rows: Array<[string, string]> = [['n', String(m.n)]];
  if (task === 'entities') rows.push(['precision', pct(m.precision)], ['recall', pct(m.recall)], ['F1', pct(m.f1)]);
  else if (task === 'answers') rows.push(['exact match', pct(m.exact_match)], ['F1', pct(m.f1)]);
  else rows.push(['accuracy', pct(m.accuracy)], ['macro-F1', pct(m.macro_f1)]);
  rows.push(['ECE', num(m.ece)]);
  return rows;
}

function headlineTable(report: Report): string {
  const keys = Object.keys(report.models);
  const tasks = [...new Set(keys.flatMap((k) => Object.keys(report.models[k])))].sort();
  let body = '';
  for (const task of tasks) {
    const first = keys.map((k) => report.models[k][task]).find(Boolean)!;
    for (const [label] of headline(task, first)) {
      body += `<tr><th>${esc(task)}</th><td>${esc(label)}</td>${keys
        .map((k) => {
          const m = report.models[k][task];
          return `<td class="num">${m ? esc(headline(task, m).find(([l]) => l === label)?.[1] ?? '–') : '–'}</td>`;
        })
        .join('')}</tr>`;
    }
  }
  for (const [label, get] of [
    ['texts/s', (k: string) => num(report.runtime[k]?.texts_per_s, 1)],
    ['latency/event p50 (ms)', (k: string) => num(report.runtime[k]?.latency_ms.p50, 2)],
    ['latency/event p95 (ms)', (k: string) => num(report.runtime[k]?.latency_ms.p95, 2)],
  ] as const) {
    body += `<tr><th>runtime</th><td>${label}</td>${keys.map((k) => `<td class="num">${esc(get(k))}</td>`).join('')}</tr>`;
  }
  return `<table class="headline"><thead><tr><th>task</th><th>metric</th>${keys.map((k, i) => `<th style="color:${COLORS[i]}">${esc(k)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A confusion matrix as an SVG heatmap; at most the 25 labels with the most gold + predicted events. */
function confusionSvg(conf: { labels: string[]; matrix: number[][] }): string {
  const weight = conf.labels.map((_, i) => conf.matrix[i].reduce((s, x) => s + x, 0) + conf.matrix.reduce((s, row) => s + row[i], 0));
  const shown = conf.labels
    .map((_, i) => i)
    .filter((i) => weight[i] > 0)
    .sort((a, b) => weight[b] - weight[a])
    .slice(0, 25)
    .sort((a, b) => a - b);
  if (shown.length === 0) return '<p class="empty">no labeled events</p>';
  const cell = shown.length > 10 ? 18 : 34;
  const pad = 130;
  const size = pad + cell * shown.length;
  const max = Math.max(1, ...shown.flatMap((g) => shown.map((p) => conf.matrix[g][p])));
  let out = `<svg class="chart confusion" xmlns="http://www.w3.org/2000/svg" width="${size + 100}" height="${size + 10}" role="img" aria-label="confusion matrix">`;
  shown.forEach((g, r) => {
    out += `<text x="${pad - 4}" y="${pad + r * cell + cell * 0.65}" text-anchor="end" font-size="11">${esc(conf.labels[g].slice(0, 20))}</text>`;
    out += `<text transform="translate(${pad + r * cell + cell * 0.65},${pad - 4}) rotate(-60)" font-size="11">${esc(conf.labels[g].slice(0, 20))}</text>`;
    shown.forEach((p, c) => {
      const v = conf.matrix[g][p];
      const t = v / max;
      const fill = g === p ? `rgba(37,99,235,${0.08 + 0.92 * t})` : `rgba(220,38,38,${v ? 0.15 + 0.85 * t : 0.03})`;
      out += `<rect x="${pad + c * cell}" y="${pad + r * cell}" width="${cell - 1}" height="${cell - 1}" fill="${fill}"><title>gold ${esc(conf.labels[g])}, predicted ${esc(conf.labels[p])}: ${v}</title></rect>`;
      if (cell >= 30 && v)
        out += `<text x="${pad + c * cell + cell / 2}" y="${pad + r * cell + cell * 0.62}" text-anchor="middle" font-size="11">${v}</text>`;
    });
  });
  return out + `<text x="4" y="12" font-size="11" fill="#555">rows: gold, columns: predicted</text></svg>`;
}

/** Horizontal bars of F1 per entity type, one bar per model. */
function entityBars(report: Report): string {
  const keys = Object.keys(report.models).filter((k) => report.models[k].entities);
  if (keys.length === 0) return '';
  const types = [
    ...new Set(keys.flatMap((k) => Object.keys((report.models[k].entities as { per_type: Record<string, unknown> }).per_type))),
  ].sort();
  const bar = 14;
  const group = bar * keys.length + 8;
  const width = 520;
  const left = 70;
  let out = `<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${types.length * group + 24}" role="img" aria-label="F1 per entity type">`;
  types.forEach((type, t) => {
    out += `<text x="${left - 6}" y="${t * group + group / 2 + 4}" text-anchor="end" font-size="12">${esc(type)}</text>`;
    keys.forEach((k, i) => {
      const per = (report.models[k].entities as { per_type: Record<string, { f1: number; support: number }> }).per_type[type];
      const f1 = per?.f1 ?? 0;
      const w = Math.max(1, f1 * (width - left - 110));
      out += `<rect x="${left}" y="${t * group + i * bar}" width="${w}" height="${bar - 2}" fill="${COLORS[i]}"><title>${esc(k)} ${esc(type)}: F1 ${pct(f1)} (support ${per?.support ?? 0})</title></rect>`;
      out += `<text x="${left + w + 4}" y="${t * group + i * bar + bar - 4}" font-size="11">${pct(f1)} (n=${per?.support ?? 0})</text>`;
    });
  });
  return out + '</svg>';
}

/** A reliability diagram: bars of accuracy per confidence bin against the diagonal. */
function reliabilitySvg(bins: Bin[], color: string): string {
  const s = 220;
  const m = 28;
  const total = bins.reduce((a, b) => a + b.n, 0);
  let out = `<svg class="chart reliability" xmlns="http://www.w3.org/2000/svg" width="${s + m + 10}" height="${s + m + 10}" role="img" aria-label="reliability diagram">`;
  out += `<rect x="${m}" y="10" width="${s}" height="${s}" fill="#fafafa" stroke="#ccc"/>`;
  for (const b of bins) {
    if (b.n === 0 || b.accuracy === null) continue;
    const x = m + b.lo * s;
    const h = b.accuracy * s;
    out += `<rect x="${x + 1}" y="${10 + s - h}" width="${(b.hi - b.lo) * s - 2}" height="${Math.max(1, h)}" fill="${color}" fill-opacity="${0.35 + 0.65 * Math.min(1, (b.n / Math.max(1, total)) * 5)}"><title>confidence ${num(b.lo, 2)}–${num(b.hi, 2)}: n=${b.n}, accuracy ${pct(b.accuracy)}, mean confidence ${pct(b.confidence)}</title></rect>`;
  }
  out += `<line x1="${m}" y1="${10 + s}" x2="${m + s}" y2="10" stroke="#111" stroke-dasharray="4 3"/>`;
  out += `<text x="${m + s / 2}" y="${s + m + 6}" text-anchor="middle" font-size="11">confidence</text><text transform="translate(11,${10 + s / 2}) rotate(-90)" text-anchor="middle" font-size="11">accuracy</text>`;
  return out + '</svg>';
}

/** A/B: the delta and its 95 % interval per task as a forest plot, plus the numbers. */
function abSection(report: Report): string {
  if (!report.ab) return '<p>One model: no A/B comparison.</p>';
  const [a, b] = Object.keys(report.models);
  const tasks = Object.keys(report.ab).sort();
  const width = 640;
  const left = 200;
  const row = 26;
  const span = Math.max(
    0.05,
    ...tasks.flatMap((t) => [Math.abs(report.ab![t].ci95[0]), Math.abs(report.ab![t].ci95[1]), Math.abs(report.ab![t].delta)]),
  );
  const x = (v: number): number => left + ((v + span) / (2 * span)) * (width - left - 20);
  let svg = `<svg class="chart forest" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${tasks.length * row + 30}" role="img" aria-label="metric deltas with 95% intervals">`;
  svg += `<line x1="${x(0)}" y1="0" x2="${x(0)}" y2="${tasks.length * row}" stroke="#999" stroke-dasharray="3 3"/>`;
  tasks.forEach((t, i) => {
    const e = report.ab![t];
    const y = i * row + row / 2;
    svg += `<text x="${left - 8}" y="${y + 4}" text-anchor="end" font-size="12">${esc(t)} (${esc(e.metric)})</text>`;
    svg += `<line x1="${x(e.ci95[0])}" y1="${y}" x2="${x(e.ci95[1])}" y2="${y}" stroke="#111" stroke-width="2"/>`;
    svg += `<circle cx="${x(e.delta)}" cy="${y}" r="5" fill="${e.ci95[0] > 0 ? '#16a34a' : e.ci95[1] < 0 ? '#dc2626' : '#6b7280'}"><title>${esc(t)}: ${signedPct(e.delta)} points [${signedPct(e.ci95[0])}, ${signedPct(e.ci95[1])}]</title></circle>`;
  });
  svg += `<text x="${x(-span)}" y="${tasks.length * row + 18}" font-size="11">${signedPct(-span)}</text><text x="${x(span)}" y="${tasks.length * row + 18}" font-size="11" text-anchor="end">${signedPct(span)}</text><text x="${x(0)}" y="${tasks.length * row + 18}" font-size="11" text-anchor="middle">0</text></svg>`;
  const rows = tasks
    .map((t) => {
      const e = report.ab![t];
      const mc = e.mcnemar ? `${num(e.mcnemar.p_value, 4)} (${e.mcnemar.method}; ${e.mcnemar.a_only} vs ${e.mcnemar.b_only})` : '–';
      return `<tr><th>${esc(t)}</th><td>${esc(e.metric)}</td><td class="num">${e.n}</td><td class="num">${pct(e.a)}</td><td class="num">${pct(e.b)}</td><td class="num">${signedPct(e.delta)}</td><td class="num">[${signedPct(e.ci95[0])}, ${signedPct(e.ci95[1])}]</td><td class="num">${mc}</td><td class="num">${pct(e.agreement)} of ${e.agreement_n}</td></tr>`;
    })
    .join('');
  return `<p>Deltas are ${esc(b)} − ${esc(a)} in percentage points; intervals from a paired bootstrap (1,000 resamples, seeded).</p>${svg}<table><thead><tr><th>task</th><th>metric</th><th>n</th><th>${esc(a)}</th><th>${esc(b)}</th><th>delta</th><th>95% CI</th><th>McNemar p</th><th>agreement</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const show = (v: unknown): string => {
  if (v === null || v === undefined) return '<span class="none">—</span>';
  if (Array.isArray(v))
    return (
      v
        .map((x) =>
          typeof x === 'object' && x && 'label' in x
            ? `${esc((x as { text?: string }).text ?? '')} [${esc((x as { label: string }).label)}]`
            : esc(x),
        )
        .join(', ') || '<span class="none">none</span>'
    );
  return esc(v);
};

function disagreementsTable(report: Report): string {
  if (report.disagreements.length === 0) return '<p>No disagreements.</p>';
  const [a, b] = Object.keys(report.models);
  const rows = report.disagreements
    .map(
      (d) =>
        `<tr><td>${esc(d.id)}</td><td>${esc(d.task)}${d.question ? `<br><small>${esc(d.question)}</small>` : ''}</td><td class="text">${esc(d.text.length > 160 ? d.text.slice(0, 160) + '…' : d.text)}</td><td>${show(d.a)}</td><td>${show(d.b)}</td><td>${show(d.gold)}</td><td class="num">${num(d.size, 2)}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>id</th><th>task</th><th>text</th><th>${esc(a)}</th><th>${esc(b)}</th><th>gold</th><th>size</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function driftTable(report: Report): string {
  return Object.entries(report.drift)
    .map(([key, d]) => {
      if (!d.available) return `<h3>${esc(key)}</h3><p class="empty">Not available: ${esc(d.reason)}</p>`;
      const rows = d.features
        .map(
          (f) => `<tr><td>${esc(f.feature)}</td><td class="num">${num(f.psi)}</td><td class="verdict ${f.verdict}">${f.verdict}</td></tr>`,
        )
        .join('');
      return `<h3>${esc(key)}: <span class="verdict ${d.verdict}">${d.verdict}</span></h3><p>${d.texts} texts against the reference profile (${esc(d.reference.source)}, ${d.reference.texts} texts). PSI &lt; ${d.thresholds.watch} stable, &lt; ${d.thresholds.drifted} watch, otherwise drifted.</p>${d.warning ? `<p class="empty">${esc(d.warning)}</p>` : ''}<table><thead><tr><th>feature</th><th>PSI</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>`;
    })
    .join('');
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#111;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.text{max-width:360px}.none{color:#999}
.partial{background:#fef3c7;border:1px solid #f59e0b;padding:8px 12px;font-weight:600}
.grid{display:flex;flex-wrap:wrap;gap:16px}.grid figure{margin:0}figcaption{font-size:12px;color:#444}
.verdict.stable{color:#15803d}.verdict.watch{color:#b45309}.verdict.drifted{color:#b91c1c;font-weight:600}.empty{color:#777}
.meta td,.meta th{border:none;padding:1px 8px 1px 0}`;

/** The whole page. */
export function renderReportHtml(report: Report): string {
  const keys = Object.keys(report.models);
  const meta = [
    [
      'source',
      Object.entries(report.source)
        .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
        .join(', '),
    ],
    ['range', JSON.stringify(report.range)],
    ['events', `${report.events.read} read, ${report.events.evaluated} evaluated, ${report.events.labeled} labeled`],
    [
      'skipped',
      report.skipped.total === 0
        ? 'none'
        : Object.entries(report.skipped.by_code)
            .map(([c, n]) => `${c} ${n}`)
            .join(', '),
    ],
    [
      'labels',
      `${report.labels.source}: ${report.labels.read} labels read, ${report.labels.matched} ids matched, ${report.labels.without_event} ids not evaluated`,
    ],
    ['created', report.created],
  ];
  const confusions = keys
    .flatMap((k, i) =>
      Object.entries(report.models[k])
        .filter(([, m]) => (m as { confusion?: unknown }).confusion)
        .map(
          ([task, m]) =>
            `<figure><figcaption style="color:${COLORS[i]}">${esc(k)} · ${esc(task)}</figcaption>${confusionSvg((m as { confusion: { labels: string[]; matrix: number[][] } }).confusion)}</figure>`,
        ),
    )
    .join('');
  const reliability = keys
    .flatMap((k, i) =>
      Object.entries(report.models[k]).map(
        ([task, m]) =>
          `<figure><figcaption style="color:${COLORS[i]}">${esc(k)} · ${esc(task)} · ECE ${num((m as { ece: number }).ece)}</figcaption>${reliabilitySvg((m as { reliability: Bin[] }).reliability, COLORS[i])}</figure>`,
      ),
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Trident evaluation — ${esc(keys.join(' vs '))}</title><style>${CSS}</style></head><body>
<h1>Trident evaluation — ${esc(keys.join(' vs '))}</h1>
${report.partial ? `<p class="partial" id="partial">Partial report: ${esc(report.partial_reason ?? 'stopped early')}. Only the events read before the stop are included.</p>` : ''}
<table class="meta">${meta.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h2 id="headline">Headline</h2>${keys.some((k) => Object.keys(report.models[k]).length > 0) ? headlineTable(report) : '<p class="empty">No labeled events were scored.</p>'}
<h2 id="confusion">Confusion matrices</h2><div class="grid">${confusions || '<p class="empty">No classification labels.</p>'}</div>
<h2 id="entities">Entities per type</h2>${entityBars(report) || '<p class="empty">No entity labels.</p>'}
<h2 id="reliability">Reliability</h2><p>Accuracy per confidence bin (15 bins); the dashed diagonal is perfect calibration.</p><div class="grid">${reliability || '<p class="empty">No labeled events.</p>'}</div>
<h2 id="ab">A/B</h2>${abSection(report)}
<h2 id="disagreements">Largest disagreements</h2>${report.ab ? disagreementsTable(report) : '<p>One model: no disagreements.</p>'}
<h2 id="drift">Drift</h2>${driftTable(report)}
</body></html>
`;
}
