import { forwardRef } from 'react';
import type { ChartData, ChartOptions } from 'chart.js';

/** The props each mocked chart received last, keyed by its accessible name. */
export const renderedCharts = new Map<string, { data: ChartData<'line'>; options: ChartOptions<'line'> }>();

/** Stand-in for react-chartjs-2's Line: a canvas with the same accessible name. */
export const Line = forwardRef<unknown, { data: ChartData<'line'>; options: ChartOptions<'line'>; 'aria-label'?: string }>(
  function Line({ data, options, 'aria-label': label = '' }, _ref) {
    renderedCharts.set(label, { data, options });
    return <canvas role="img" aria-label={label} data-points={data.datasets[0]?.data.length ?? 0} />;
  },
);
