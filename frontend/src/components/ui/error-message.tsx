import { describeError } from '@/lib/api-client';

/** An error from a query, in words, for a region that has no data to show instead. */
export function ErrorMessage({ error, what }: { error: unknown; what: string }) {
  return (
    <div
      role="alert"
      className="rounded-lg border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
    >
      <p className="font-semibold">Could not load {what}.</p>
      <p>{describeError(error)}</p>
    </div>
  );
}
