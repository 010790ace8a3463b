const buttonClass =
  'rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100 disabled:cursor-not-allowed disabled:opacity-40 dark:border-slate-600 dark:text-slate-100 dark:hover:bg-slate-800';

/** Previous / next buttons of a keyset-paged list, with the page number between them. */
export function Pager({
  pageNumber,
  hasNext,
  onPrevious,
  onNext,
}: {
  pageNumber: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}) {
  if (pageNumber === 1 && !hasNext) return null;
  return (
    <nav aria-label="Pages of devices" className="flex items-center justify-end gap-3">
      <button type="button" className={buttonClass} onClick={onPrevious} disabled={pageNumber === 1}>
        Previous
      </button>
      <span className="text-sm text-slate-600 tabular-nums dark:text-slate-400">Page {pageNumber}</span>
      <button type="button" className={buttonClass} onClick={onNext} disabled={!hasNext}>
        Next
      </button>
    </nav>
  );
}
