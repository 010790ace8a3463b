import { useCallback, useState } from 'react';

/**
 * Next/previous paging over a keyset-paged list: the cursors of the pages before the one
 * shown, as a stack. A new `resetKey` (other filters) starts again at the first page.
 */
export function useCursorStack(resetKey: string) {
  const [state, setState] = useState<{ key: string; cursors: string[] }>({ key: resetKey, cursors: [] });
  const cursors = state.key === resetKey ? state.cursors : [];
  const next = useCallback(
    (cursor: string) => setState((s) => ({ key: resetKey, cursors: [...(s.key === resetKey ? s.cursors : []), cursor] })),
    [resetKey],
  );
  const previous = useCallback(
    () => setState((s) => ({ key: resetKey, cursors: (s.key === resetKey ? s.cursors : []).slice(0, -1) })),
    [resetKey],
  );
  return {
    /** The cursor of the page shown; undefined on the first page. */
    cursor: cursors.at(-1),
    /** 1 for the first page. */
    pageNumber: cursors.length + 1,
    next,
    previous,
  };
}
