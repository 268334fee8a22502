import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Series } from '../../../serve/admin/admin-types.ts';
import { num } from '../format.ts';

export interface Line {
  /** Column of the series. */
  readonly key: string;
  readonly label: string;
  readonly color: string;
}

/** Colours with at least 3:1 contrast on white, told apart by the legend's labels too. */
export const COLORS = ['#1f5fbf', '#b3261e', '#2e7d32', '#8a4b00', '#6a1b9a', '#00695c', '#5d4037'];

/**
 * A time-series chart (uPlot, on a canvas) with its title as the figure caption and, for assistive
 * technology, a text summary of the latest values. `data-last` holds the newest values, so a test
 * can watch the chart move.
 */
export function TimeChart({
  title,
  series,
  lines,
  unit,
}: {
  title: string;
  series: Series;
  lines: readonly Line[];
  unit: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = lines.map((l) => l.key).join('|');
  const data = toData(series, lines);

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const chart = new uPlot(
      {
        width: Math.max(300, el.clientWidth),
        height: 180,
        scales: {
          x: { time: true },
          y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max * 1.1)] },
        },
        axes: [
          { stroke: '#333', grid: { stroke: '#e4e4e4' } },
          {
            stroke: '#333',
            grid: { stroke: '#e4e4e4' },
            size: 60,
            values: (_u, ticks) => ticks.map((t) => num(t, 1)),
          },
        ],
        series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, spanGaps: false }))],
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
      },
      data,
      el,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(300, el.clientWidth), height: 180 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  const last = lines.map((l) => {
    const column = series.columns[l.key] ?? [];
    return `${l.label} ${num(lastValue(column), 1)}`;
  });
  const summary = `${title}, last hour. Latest: ${last.join(', ')} ${unit}.`;
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div
        ref={box}
        role="img"
        aria-label={summary}
        data-last={last.join(';')}
        data-points={series.t.length}
      />
    </figure>
  );
}

function lastValue(column: readonly (number | null)[]): number | null {
  for (let i = column.length - 1; i >= 0; i--)
    if (column[i] !== null && column[i] !== undefined) return column[i] ?? null;
  return null;
}

function toData(series: Series, lines: readonly Line[]): uPlot.AlignedData {
  return [
    series.t.slice(),
    ...lines.map((l) => (series.columns[l.key] ?? series.t.map(() => null)).slice()),
  ] as uPlot.AlignedData;
}
