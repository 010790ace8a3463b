import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatRelative } from '@/lib/format';
import { RelativeTime } from './relative-time';

describe('RelativeTime', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('ticks once a second', () => {
    const seen = new Date(Date.now() - 3000).toISOString();
    render(<RelativeTime value={seen} />);
    expect(screen.getByText('3 s ago')).toHaveAttribute('datetime', seen);
    act(() => vi.advanceTimersByTime(2000));
    expect(screen.getByText('5 s ago')).toBeInTheDocument();
  });

  it('says never without a time', () => {
    render(<RelativeTime value={null} />);
    expect(screen.getByText('never')).toBeInTheDocument();
  });
});

describe('formatRelative', () => {
  it('picks a readable unit', () => {
    const now = Date.parse('2024-10-09T12:00:00Z');
    expect(formatRelative(now - 400, now)).toBe('just now');
    expect(formatRelative(now - 42_000, now)).toBe('42 s ago');
    expect(formatRelative(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(formatRelative(now - 3 * 3600_000, now)).toBe('3 h ago');
    expect(formatRelative(now - 3 * 86400_000, now)).toBe('3 d ago');
    expect(formatRelative(now + 5000, now)).toBe('just now');
  });
});
