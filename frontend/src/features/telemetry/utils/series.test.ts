// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { summarize, toChartPoints } from './series';

const bucket = (ts: string, temperature: number | null, humidity: number | null = 50) => ({
  ts,
  temperature,
  humidity,
  count: 1,
});

describe('toChartPoints', () => {
  it('maps buckets to time/value points in order', () => {
    const points = toChartPoints(
      [bucket('2024-10-09T14:00:00Z', 21.5), bucket('2024-10-09T14:00:01Z', 22)],
      'temperature',
      1,
    );
    expect(points).toEqual([
      { x: Date.parse('2024-10-09T14:00:00Z'), y: 21.5 },
      { x: Date.parse('2024-10-09T14:00:01Z'), y: 22 },
    ]);
  });

  it('breaks the line across a silence', () => {
    const points = toChartPoints(
      [bucket('2024-10-09T14:00:00Z', 21), bucket('2024-10-09T14:00:12Z', 23)],
      'temperature',
      2,
    );
    expect(points.map((p) => p.y)).toEqual([21, null, 23]);
  });

  it('bridges a single missing bucket', () => {
    const points = toChartPoints(
      [bucket('2024-10-09T14:00:00Z', 21), bucket('2024-10-09T14:00:02Z', 22)],
      'temperature',
      1,
    );
    expect(points.map((p) => p.y)).toEqual([21, 22]);
  });

  it('scales the silence with wide buckets', () => {
    const wide = [bucket('2024-10-09T14:00:00Z', 21), bucket('2024-10-09T14:10:00Z', 22)];
    expect(toChartPoints(wide, 'temperature', 288).map((p) => p.y)).toEqual([21, 22]);
    expect(toChartPoints(wide, 'temperature', 60).map((p) => p.y)).toEqual([21, null, 22]);
  });

  it('keeps a bucket without the metric as a gap', () => {
    const points = toChartPoints([bucket('2024-10-09T14:00:00Z', null, 40)], 'temperature', 1);
    expect(points).toEqual([{ x: Date.parse('2024-10-09T14:00:00Z'), y: null }]);
  });
});

describe('summarize', () => {
  it('gives min, max and latest, skipping gaps', () => {
    expect(summarize([{ x: 1, y: 3 }, { x: 2, y: null }, { x: 3, y: 1 }, { x: 4, y: 2 }])).toEqual({ min: 1, max: 3, latest: 2 });
  });

  it('is null with no values', () => {
    expect(summarize([{ x: 1, y: null }])).toBeNull();
  });
});
