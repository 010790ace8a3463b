// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { lastFullMinuteRate, sparklinePoints } from './ingest-rate';

const minutes = [
  { minute: '2026-12-01T21:00:00Z', stored: 600 },
  { minute: '2026-12-01T21:01:00Z', stored: 1200 },
  { minute: '2026-12-01T21:02:00Z', stored: 30 },
];

describe('lastFullMinuteRate', () => {
  it('gives the readings per second of the minute before the current one', () => {
    // 21:02:40 is in the 21:02 minute, still filling: the last full one is 21:01.
    expect(lastFullMinuteRate(minutes, Date.parse('2026-12-01T21:02:40Z'))).toBe(20);
    expect(lastFullMinuteRate(minutes, Date.parse('2026-12-01T21:03:00Z'))).toBe(0.5);
  });

  it('is zero when the last full minute stored nothing or is not listed', () => {
    expect(lastFullMinuteRate(minutes, Date.parse('2026-12-01T21:10:00Z'))).toBe(0);
    expect(lastFullMinuteRate([], Date.parse('2026-12-01T21:10:00Z'))).toBe(0);
  });
});

describe('sparklinePoints', () => {
  it('scales the busiest minute to the top and spreads minutes across the width', () => {
    expect(sparklinePoints(minutes, 100, 20)).toBe('0,10 50,0 100,19.5');
  });

  it('draws a flat line at the bottom when nothing was stored, and nothing without minutes', () => {
    expect(sparklinePoints([{ minute: 'a', stored: 0 }, { minute: 'b', stored: 0 }], 10, 5)).toBe('0,5 10,5');
    expect(sparklinePoints([], 10, 5)).toBe('');
  });
});
