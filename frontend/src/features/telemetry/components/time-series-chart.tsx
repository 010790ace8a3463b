import './chart-setup';
import type { Chart, ChartData, ChartOptions } from 'chart.js';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Line } from 'react-chartjs-2';
import { usePrefersDark } from '@/lib/use-media-query';
import type { ChartPoint } from '../utils/series';

interface Props {
  /** Dataset label and part of the canvas's accessible name, e.g. "Temperature". */
  label: string;
  unit: '°C' | '%';
  points: ChartPoint[];
  color: string;
  /** Draws a dashed line at this value (the HIGH_TEMP threshold). */
  threshold?: number;
  /** Changing it (a new window) resets any zoom. */
  resetKey: string;
  /** Read by screen readers in place of the drawing. */
  description: string;
}

/**
 * One Chart.js line chart on a time axis. The chart instance lives as long as the
 * component: each poll swaps the dataset's data and redraws with animation off, and
 * the options object only changes with the theme or threshold, so zoom and hover
 * survive updates.
 */
export function TimeSeriesChart({ label, unit, points, color, threshold, resetKey, description }: Props) {
  const chartRef = useRef<Chart<'line', ChartPoint[]> | null>(null);
  const [zoomed, setZoomed] = useState(false);
  const dark = usePrefersDark();

  const data = useMemo<ChartData<'line', ChartPoint[]>>(
    () => ({
      datasets: [
        {
          label,
          data: points,
          borderColor: color,
          backgroundColor: `${color}22`,
          borderWidth: 2,
          pointRadius: 0,
          pointHoverRadius: 4,
          pointHitRadius: 6,
          fill: 'origin',
          spanGaps: false,
          tension: 0.2,
        },
      ],
    }),
    [label, points, color],
  );

  const options = useMemo<ChartOptions<'line'>>(() => {
    const text = dark ? '#cbd5e1' : '#475569';
    const grid = dark ? 'rgba(148, 163, 184, 0.15)' : 'rgba(100, 116, 139, 0.15)';
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: {
          type: 'time',
          time: {
            tooltipFormat: 'yyyy-MM-dd HH:mm:ss',
            displayFormats: { second: 'HH:mm:ss', minute: 'HH:mm', hour: 'HH:mm', day: 'MMM d' },
          },
          ticks: { color: text, maxRotation: 0, autoSkipPadding: 16 },
          grid: { color: grid },
        },
        y: {
          ticks: { color: text, callback: (value) => `${value} ${unit}` },
          grid: { color: grid },
          grace: '5%',
        },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: (item) => (item.parsed.y === null ? '' : `${label}: ${item.parsed.y.toFixed(1)} ${unit}`),
          },
        },
        annotation: {
          annotations:
            threshold === undefined
              ? {}
              : {
                  threshold: {
                    type: 'line',
                    yMin: threshold,
                    yMax: threshold,
                    borderColor: '#dc2626',
                    borderWidth: 1.5,
                    borderDash: [6, 4],
                    label: {
                      display: true,
                      content: `Alert above ${threshold} ${unit}`,
                      position: 'start',
                      backgroundColor: dark ? 'rgba(127, 29, 29, 0.85)' : 'rgba(220, 38, 38, 0.85)',
                      color: '#fff',
                      font: { size: 11 },
                      padding: 4,
                    },
                  },
                },
        },
        zoom: {
          limits: { x: { minRange: 5_000 } },
          zoom: {
            drag: { enabled: true, backgroundColor: 'rgba(14, 165, 233, 0.15)' },
            pinch: { enabled: true },
            wheel: { enabled: true, modifierKey: 'ctrl' },
            mode: 'x',
            onZoomComplete: () => setZoomed(true),
          },
          pan: { enabled: true, mode: 'x', modifierKey: 'shift', onPanComplete: () => setZoomed(true) },
        },
      },
    };
  }, [dark, unit, label, threshold]);

  // A new window shows a different time range: start unzoomed.
  useEffect(() => {
    chartRef.current?.resetZoom('none');
    setZoomed(false);
  }, [resetKey]);

  return (
    <div className="relative">
      {zoomed && (
        <button
          type="button"
          onClick={() => {
            chartRef.current?.resetZoom('none');
            setZoomed(false);
          }}
          className="absolute top-0 right-0 z-10 rounded-md border border-slate-300 bg-white/90 px-2 py-0.5 text-xs font-medium text-slate-700 hover:bg-slate-100 dark:border-slate-600 dark:bg-slate-900/90 dark:text-slate-200"
        >
          Reset zoom
        </button>
      )}
      <div className="h-56 sm:h-64">
        <Line ref={chartRef} data={data} options={options} updateMode="none" aria-label={description} />
      </div>
    </div>
  );
}
