import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { formatDateTime } from '@/lib/format';
import { RelativeTime } from './relative-time';

/** A column heading; `false` leaves the column out (a device column on a device's own page). */
export type Column = string | false;

/** A bordered, horizontally scrolling table with a labelled header row; the rows are the children. */
export function DataTable({ label, columns, children }: { label: string; columns: readonly Column[]; children: ReactNode }) {
  return (
    <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-700 dark:bg-slate-900">
      <table aria-label={label} className="w-full text-left text-sm">
        <thead className="bg-slate-50 text-xs tracking-wide text-slate-500 uppercase dark:bg-slate-800 dark:text-slate-400">
          <tr>
            {columns.filter((column): column is string => column !== false).map((column) => (
              <th key={column} scope="col" className="px-3 py-2 font-semibold">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A row's ticking time, with the exact time under it from small screens up; `children` go beside it. */
export function TimeCell({ value, children }: { value: string; children?: ReactNode }) {
  return (
    <td className="px-3 py-2 whitespace-nowrap">
      <div className="text-slate-900 dark:text-slate-100">
        <RelativeTime value={value} />
        {children}
      </div>
      <div className="hidden text-xs text-slate-500 sm:block dark:text-slate-400">{formatDateTime(value)}</div>
    </td>
  );
}

/** A device id linking to its page. */
export function DeviceLink({ deviceId }: { deviceId: string }) {
  return (
    <Link
      to={`/devices/${encodeURIComponent(deviceId)}`}
      className="font-medium whitespace-nowrap text-sky-700 hover:underline dark:text-sky-400"
    >
      {deviceId}
    </Link>
  );
}
