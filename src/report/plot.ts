import type { SweepResult } from '../exits/sweep.js';
import type { RocPoint } from '../stream/roc.js';
import { decimal } from '../util/decimal.js';

interface Panel {
  title: string;
  xLabel: string;
  x: (row: { meanExit?: number; relativeCompute: number; exit?: number }) => number;
  xRange: [number, number];
}

const W = 440;
const H = 340;
const M = { left: 56, right: 16, top: 34, bottom: 48 };
const COLORS: Record<string, string> = { 'max-softmax': '#1f77b4', entropy: '#d62728' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Accuracy against mean exit and against relative compute: one curve per criterion, each exit alone as points. */
export function tradeoffSvg(result: SweepResult, title: string): string {
  const accuracies = [...result.rows.map((r) => r.accuracy), ...result.exits.map((e) => e.accuracy)];
  const yMin = Math.min(0.9, Math.max(0, Math.floor(Math.min(...accuracies) * 10) / 10));
  const yMax = Math.min(1, Math.max(yMin + 0.1, Math.ceil(Math.max(...accuracies) * 10) / 10));
  const panels: Panel[] = [
    { title: 'accuracy vs mean exit', xLabel: 'mean exit', x: (r) => r.meanExit ?? r.exit!, xRange: [1, 4] },
    { title: 'accuracy vs compute', xLabel: 'MACs / full network', x: (r) => r.relativeCompute, xRange: [0, 1] },
  ];
  const parts = panels.map((panel, i) => {
    const ox = i * W;
    const sx = (v: number) => ox + M.left + ((v - panel.xRange[0]) / (panel.xRange[1] - panel.xRange[0])) * (W - M.left - M.right);
    const sy = (v: number) => M.top + (1 - (v - yMin) / (yMax - yMin)) * (H - M.top - M.bottom);
    const out: string[] = [];
    out.push(`<text x="${ox + W / 2}" y="20" text-anchor="middle" font-size="14">${esc(panel.title)}</text>`);
    out.push(`<rect x="${ox + M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#888"/>`);
    for (let t = 0; t <= 4; t++) {
      const xv = panel.xRange[0] + ((panel.xRange[1] - panel.xRange[0]) * t) / 4;
      const yv = yMin + ((yMax - yMin) * t) / 4;
      out.push(`<text x="${sx(xv)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${xv.toFixed(panel.xRange[1] > 1 ? 1 : 2)}</text>`);
      out.push(`<text x="${ox + M.left - 6}" y="${sy(yv) + 4}" text-anchor="end" font-size="11">${(100 * yv).toFixed(0)}%</text>`);
      out.push(`<line x1="${ox + M.left}" x2="${ox + W - M.right}" y1="${sy(yv)}" y2="${sy(yv)}" stroke="#eee"/>`);
    }
    out.push(`<text x="${ox + M.left + (W - M.left - M.right) / 2}" y="${H - 10}" text-anchor="middle" font-size="12">${esc(panel.xLabel)}</text>`);
    for (const criterion of Object.keys(COLORS)) {
      const points = result.rows
        .filter((r) => r.criterion === criterion)
        .map((r) => [sx(panel.x(r)), sy(r.accuracy)] as const)
        .sort((a, b) => a[0] - b[0]);
      out.push(
        `<polyline fill="none" stroke="${COLORS[criterion]}" stroke-width="2" points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const e of result.exits) {
      const [x, y] = [sx(panel.x(e)), sy(e.accuracy)];
      const right = x > ox + W - M.right - 50; // keep the label inside the panel
      out.push(
        `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="#333"/><text x="${(right ? x - 6 : x + 6).toFixed(1)}" y="${(y - 8).toFixed(1)}" font-size="11" text-anchor="${right ? 'end' : 'start'}">exit ${e.exit}</text>`,
      );
    }
    return out.join('\n');
  });
  const legend = Object.entries(COLORS)
    .map(
      ([name, color], i) =>
        `<line x1="${M.left + 10 + i * 130}" x2="${M.left + 34 + i * 130}" y1="${H + 14}" y2="${H + 14}" stroke="${color}" stroke-width="2"/><text x="${M.left + 40 + i * 130}" y="${H + 18}" font-size="12">${name}</text>`,
    )
    .join('\n');
  const exitsLegend = `<circle cx="${M.left + 276}" cy="${H + 14}" r="4" fill="#333"/><text x="${M.left + 286}" y="${H + 18}" font-size="12">each exit alone</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 48}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W}" y="${H + 40}" text-anchor="middle" font-size="12" fill="#555">${esc(title)}</text>
${parts.join('\n')}
${legend}
${exitsLegend}
</svg>
`;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** Accuracy against relative compute, one curve per model (scripts/zoo.ts: one per architecture). */
export function curvesSvg(title: string, curves: { name: string; points: [compute: number, accuracy: number][] }[]): string {
  const accuracies = curves.flatMap((c) => c.points.map(([, a]) => a));
  const yMin = Math.max(0, Math.floor(Math.min(...accuracies) * 10) / 10);
  const yMax = Math.min(1, Math.max(yMin + 0.1, Math.ceil(Math.max(...accuracies) * 10) / 10));
  const sx = (v: number) => M.left + v * (W - M.left - M.right);
  const sy = (v: number) => M.top + (1 - (v - yMin) / (yMax - yMin)) * (H - M.top - M.bottom);
  const out: string[] = [`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#888"/>`];
  for (let t = 0; t <= 4; t++) {
    const yv = yMin + ((yMax - yMin) * t) / 4;
    out.push(`<text x="${sx(t / 4)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${(t / 4).toFixed(2)}</text>`);
    out.push(`<text x="${M.left - 6}" y="${sy(yv) + 4}" text-anchor="end" font-size="11">${(100 * yv).toFixed(0)}%</text>`);
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${sy(yv)}" y2="${sy(yv)}" stroke="#eee"/>`);
  }
  out.push(`<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 10}" text-anchor="middle" font-size="12">MACs / full network</text>`);
  curves.forEach((curve, i) => {
    const color = PALETTE[i % PALETTE.length];
    const points = [...curve.points].sort((a, b) => a[0] - b[0]).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
    out.push(
      `<line x1="${M.left + 10 + i * 100}" x2="${M.left + 34 + i * 100}" y1="${H + 14}" y2="${H + 14}" stroke="${color}" stroke-width="2"/><text x="${M.left + 40 + i * 100}" y="${H + 18}" font-size="12">${esc(curve.name)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.max(W, M.left + 100 * curves.length + 20)}" height="${H + 48}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="13">${esc(title)}</text>
${out.join('\n')}
</svg>
`;
}

/** bee listen's ROC: hit rate (y) against false alarms per hour (x), a point per --min-confidence (its value on hover). */
export function rocSvg(points: RocPoint[], title: string, atFixedRates?: Record<string, number | null>): string {
  const xMax = Math.max(1, ...points.map((p) => p.falseAlarmsPerHour));
  const sx = (v: number) => M.left + (v / xMax) * (W - M.left - M.right);
  const sy = (v: number) => M.top + (1 - v) * (H - M.top - M.bottom);
  const sorted = [...points].sort((a, b) => a.falseAlarmsPerHour - b.falseAlarmsPerHour);
  const out: string[] = [`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#888"/>`];
  for (let t = 0; t <= 4; t++) {
    out.push(`<text x="${sx((t / 4) * xMax)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${((t / 4) * xMax).toFixed(0)}</text>`);
    out.push(`<text x="${M.left - 6}" y="${sy(t / 4) + 4}" text-anchor="end" font-size="11">${(25 * t).toFixed(0)}%</text>`);
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${sy(t / 4)}" y2="${sy(t / 4)}" stroke="#eee"/>`);
  }
  out.push(`<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 10}" text-anchor="middle" font-size="12">false alarms per hour</text>`);
  out.push(
    `<polyline fill="none" stroke="${PALETTE[0]}" stroke-width="2" points="${sorted.map((p) => `${sx(p.falseAlarmsPerHour).toFixed(1)},${sy(p.hitRate).toFixed(1)}`).join(' ')}"/>`,
  );
  for (const p of sorted)
    out.push(
      `<circle cx="${sx(p.falseAlarmsPerHour).toFixed(1)}" cy="${sy(p.hitRate).toFixed(1)}" r="3" fill="${PALETTE[0]}"><title>min confidence ${p.minConfidence}</title></circle>`,
    );
  // the field's figures: the hit rate at fixed false-alarm rates, marked and listed
  const fixed = Object.entries(atFixedRates ?? {}).sort(([a], [b]) => decimal(a) - decimal(b));
  for (const [rate, hit] of fixed) {
    if (hit === null) continue;
    out.push(
      `<rect x="${(sx(decimal(rate)) - 4).toFixed(1)}" y="${(sy(hit) - 4).toFixed(1)}" width="8" height="8" fill="none" stroke="${PALETTE[1]}" stroke-width="1.5"/>`,
    );
  }
  if (fixed.length) {
    const text = fixed.map(([rate, hit]) => `${hit === null ? 'not reached' : `${(100 * hit).toFixed(1)}%`} at ${rate}/h`).join(', ');
    out.push(`<text x="${W - M.right - 6}" y="${sy(0) - 8}" text-anchor="end" font-size="11" fill="${PALETTE[1]}">hit rate ${esc(text)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="13">${esc(title)}</text>
${out.join('\n')}
</svg>
`;
}
