import { formatDay, formatNumber } from "../lib/format";

export interface Bar {
  date: string;
  value: number;
  /** A part of the value drawn in a second colour (e.g. unanswered questions). */
  part?: number;
}

const HEIGHT = 160;
const GAP = 2;

/** A bar per day, drawn in SVG; the numbers are also in a table for screen readers. */
export function BarChart({
  title,
  bars,
  unit,
  partLabel,
}: {
  title: string;
  bars: Bar[];
  unit: string;
  partLabel?: string;
}) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const total = bars.reduce((sum, b) => sum + b.value, 0);
  const width = Math.max(bars.length * 12, 120);
  const step = width / Math.max(bars.length, 1);
  const label = `${title}: ${formatNumber(total)} ${unit} over ${bars.length} days, at most ${formatNumber(max)} in a day.`;
  return (
    <figure className="chart">
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="chart-total">
          {formatNumber(total)} {unit}
        </span>
      </figcaption>
      {total === 0 && <p className="chart-empty">Nothing in this period yet.</p>}
      <svg viewBox={`0 0 ${width} ${HEIGHT + 18}`} preserveAspectRatio="none" role="img" aria-label={label}>
        <line x1={0} x2={width} y1={HEIGHT} y2={HEIGHT} className="chart-axis" />
        {bars.map((bar, i) => {
          const h = (bar.value / max) * (HEIGHT - 8);
          const part = bar.part ? (bar.part / max) * (HEIGHT - 8) : 0;
          return (
            <g key={bar.date}>
              <title>{`${formatDay(bar.date)}: ${formatNumber(bar.value)} ${unit}${
                bar.part ? `, ${formatNumber(bar.part)} ${partLabel}` : ""
              }`}</title>
              <rect x={i * step + GAP / 2} y={HEIGHT - h} width={step - GAP} height={h} className="chart-bar" rx={1.5} />
              {part > 0 && (
                <rect x={i * step + GAP / 2} y={HEIGHT - part} width={step - GAP} height={part} className="chart-part" />
              )}
            </g>
          );
        })}
      </svg>
      <div className="chart-axis-labels" aria-hidden="true">
        <span>{bars.length ? formatDay(bars[0].date) : ""}</span>
        <span>{bars.length ? formatDay(bars[bars.length - 1].date) : ""}</span>
      </div>
      {partLabel && (
        <p className="chart-legend" aria-hidden="true">
          <span className="swatch swatch-bar" /> {unit} <span className="swatch swatch-part" /> {partLabel}
        </p>
      )}
      <details className="chart-data">
        <summary>Show the numbers</summary>
        <table>
          <thead>
            <tr>
              <th>Day</th>
              <th className="num">{unit}</th>
              {partLabel && <th className="num">{partLabel}</th>}
            </tr>
          </thead>
          <tbody>
            {bars.map((b) => (
              <tr key={b.date}>
                <td>{formatDay(b.date)}</td>
                <td className="num">{formatNumber(b.value)}</td>
                {partLabel && <td className="num">{formatNumber(b.part ?? 0)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
