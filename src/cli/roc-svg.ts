/** One point of a ROC curve: false-alarm rate and detection rate, both in [0, 1]. */
export interface RocPoint {
  readonly falseAlarmRate: number;
  readonly detectionRate: number;
}

export interface RocCurve {
  readonly label: string;
  readonly auc: number;
  readonly points: readonly RocPoint[];
}

const SIZE = 480;
const MARGIN = 56;
const PLOT = SIZE - 2 * MARGIN;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'] as const;

/**
 * Renders ROC curves as a self-contained SVG document (no scripts, no external references), so the
 * file can be attached to a report or opened in any browser.
 */
export function renderRocSvg(curves: readonly RocCurve[], title: string): string {
  const x = (rate: number): string => (MARGIN + clamp(rate) * PLOT).toFixed(2);
  const y = (rate: number): string => (MARGIN + (1 - clamp(rate)) * PLOT).toFixed(2);
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${SIZE}" height="${SIZE}" fill="white"/>`,
    `<text x="${SIZE / 2}" y="24" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<rect x="${MARGIN}" y="${MARGIN}" width="${PLOT}" height="${PLOT}" fill="none" stroke="#333"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#aaa" stroke-dasharray="4 4"/>`,
  ];
  for (const tick of ticks) {
    parts.push(
      `<text x="${x(tick)}" y="${MARGIN + PLOT + 16}" text-anchor="middle">${tick.toFixed(1)}</text>`,
      `<text x="${MARGIN - 8}" y="${Number(y(tick)) + 4}" text-anchor="end">${tick.toFixed(1)}</text>`,
    );
  }
  parts.push(
    `<text x="${SIZE / 2}" y="${SIZE - 14}" text-anchor="middle">False-alarm rate</text>`,
    `<text x="16" y="${SIZE / 2}" text-anchor="middle" transform="rotate(-90 16 ${SIZE / 2})">Detection rate</text>`,
  );
  curves.forEach((curve, index) => {
    const colour = COLOURS[index % COLOURS.length] ?? '#000';
    const path = curve.points
      .map(
        (point, i) => `${i === 0 ? 'M' : 'L'}${x(point.falseAlarmRate)},${y(point.detectionRate)}`,
      )
      .join(' ');
    parts.push(
      `<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${MARGIN + PLOT - 8}" y="${MARGIN + PLOT - 12 - 16 * index}" text-anchor="end" fill="${colour}">${escapeXml(curve.label)} (AUC ${curve.auc.toFixed(3)})</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function clamp(rate: number): number {
  return Number.isFinite(rate) ? Math.min(1, Math.max(0, rate)) : 0;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
