import { type DetectionRule, detectAll, type WindowAnswer } from './detector.js';
import { scoreStream, type StreamScore, type TruthEvent } from './score.js';

export interface RocPoint extends StreamScore {
  minConfidence: number;
}

/** Hit rate against false alarms per hour over a grid of --min-confidence values, from one pass of the model (tfjs speech-commands' evaluate()). */
export function streamRoc(labels: string[], rule: DetectionRule, answers: WindowAnswer[], truth: TruthEvent[], durationSeconds: number): RocPoint[] {
  const reportable = (label: string) => !rule.ignore.has(label);
  return Array.from({ length: 19 }, (_, i) => {
    const minConfidence = Math.round(100 * (0.05 + 0.05 * i)) / 100;
    const detections = detectAll(labels, { ...rule, minConfidence }, answers);
    return { minConfidence, ...scoreStream(detections, truth, durationSeconds, reportable) };
  });
}

/** The ROC as an SVG: hit rate (y) against false alarms per hour (x), each point labelled with its threshold. */
export function rocSvg(points: RocPoint[], title: string): string {
  const [W, H, L, R, T, B] = [480, 340, 56, 16, 34, 48];
  const xMax = Math.max(1, ...points.map((p) => p.falseAlarmsPerHour));
  const sx = (v: number) => L + (v / xMax) * (W - L - R);
  const sy = (v: number) => T + (1 - v) * (H - T - B);
  const sorted = [...points].sort((a, b) => a.falseAlarmsPerHour - b.falseAlarmsPerHour);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(
    (t) =>
      `<text x="${sx(t * xMax)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${(t * xMax).toFixed(0)}</text>` +
      `<text x="${L - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${(100 * t).toFixed(0)}%</text>` +
      `<line x1="${L}" x2="${W - R}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`,
  );
  const line = sorted.map((p) => `${sx(p.falseAlarmsPerHour).toFixed(1)},${sy(p.hitRate).toFixed(1)}`).join(' ');
  const marks = sorted.map(
    (p) =>
      `<circle cx="${sx(p.falseAlarmsPerHour).toFixed(1)}" cy="${sy(p.hitRate).toFixed(1)}" r="3" fill="#1f77b4"><title>min confidence ${p.minConfidence}</title></circle>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="13">${esc(title)}</text>
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>
${ticks.join('\n')}
<text x="${L + (W - L - R) / 2}" y="${H - 10}" text-anchor="middle" font-size="12">false alarms per hour</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${line}"/>
${marks.join('\n')}
</svg>
`;
}
