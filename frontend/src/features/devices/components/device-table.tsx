import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { useLayoutEffect, useRef, useState } from 'react';
import type { Device, DeviceWindowStats } from '@/types/api';
import { DeviceRow, ROW_HEIGHT } from './device-row';

interface Props {
  devices: Device[];
  averages: ReadonlyMap<string, DeviceWindowStats>;
  threshold: number | undefined;
}

/**
 * The fleet as a table. Only the rows near the viewport are in the DOM (window
 * virtualisation with fixed row heights), so 1,000 devices scroll without jank.
 */
export function DeviceTable({ devices, averages, threshold }: Props) {
  const bodyRef = useRef<HTMLTableSectionElement>(null);
  const [scrollMargin, setScrollMargin] = useState(0);

  // Where the table body starts on the page; banners above it can move it.
  useLayoutEffect(() => {
    const top = bodyRef.current ? bodyRef.current.getBoundingClientRect().top + window.scrollY : 0;
    if (Math.abs(top - scrollMargin) > 1) setScrollMargin(top);
  });

  const virtualizer = useWindowVirtualizer({
    count: devices.length,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    scrollMargin,
    getItemKey: (index) => devices[index].device_id,
  });
  const items = virtualizer.getVirtualItems();
  const paddingTop = items.length > 0 ? items[0].start - scrollMargin : 0;
  const paddingBottom = items.length > 0 ? virtualizer.getTotalSize() - (items[items.length - 1].end - scrollMargin) : 0;

  return (
    <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-700 dark:bg-slate-900">
      <table aria-label="Devices" aria-rowcount={devices.length + 1} className="w-full min-w-[20rem] table-fixed text-sm">
        <thead className="bg-slate-50 text-left text-xs tracking-wide text-slate-500 uppercase dark:bg-slate-800 dark:text-slate-400">
          <tr aria-rowindex={1}>
            <th scope="col" className="w-[31%] px-2 py-2 font-semibold sm:w-[34%] sm:px-3">Device</th>
            <th scope="col" className="w-[29%] px-2 py-2 font-semibold sm:w-[15%] sm:px-3">Status</th>
            <th scope="col" className="hidden w-[15%] px-3 py-2 font-semibold sm:table-cell">Last seen</th>
            <th scope="col" className="w-[20%] px-2 py-2 text-right font-semibold sm:w-[18%] sm:px-3">
              <span className="sm:hidden">Temp</span>
              <span className="hidden sm:inline">Temperature</span>
              <span className="hidden font-normal normal-case sm:block">latest · 5 min avg</span>
            </th>
            <th scope="col" className="w-[20%] px-2 py-2 text-right font-semibold sm:w-[18%] sm:px-3">
              <span className="sm:hidden">Hum.</span>
              <span className="hidden sm:inline">Humidity</span>
              <span className="hidden font-normal normal-case sm:block">latest · 5 min avg</span>
            </th>
          </tr>
        </thead>
        <tbody ref={bodyRef}>
          {paddingTop > 0 && <tr aria-hidden="true" style={{ height: paddingTop }} />}
          {items.map((item) => {
            const device = devices[item.index];
            return (
              <DeviceRow
                key={device.device_id}
                device={device}
                avg={averages.get(device.device_id)}
                threshold={threshold}
                rowIndex={item.index + 2}
              />
            );
          })}
          {paddingBottom > 0 && <tr aria-hidden="true" style={{ height: paddingBottom }} />}
        </tbody>
      </table>
    </div>
  );
}
