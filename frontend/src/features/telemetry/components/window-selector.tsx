import { SegmentedControl } from '@/components/ui/segmented-control';
import type { SeriesWindow } from '@/types/api';
import { WINDOWS } from '../utils/windows';

/** 5 min / 1 hour / 24 hours toggle for the device page. */
export function WindowSelector({ value, onChange }: { value: SeriesWindow; onChange: (window: SeriesWindow) => void }) {
  return <SegmentedControl label="Time window" options={WINDOWS} value={value} onChange={onChange} />;
}
