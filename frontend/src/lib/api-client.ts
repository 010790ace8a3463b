/** The one HTTP client: reads and writes JSON on the same-origin API and turns failures into ApiError. */
import { parseLinkHeader } from './link-header';

export type QueryParams = Record<string, string | number | undefined | null>;

/** What went wrong with an API call, in a form the UI can put into words. */
export class ApiError extends Error {
  /** HTTP status, or 0 when the server could not be reached at all. */
  readonly status: number;
  readonly field?: string;

  constructor(message: string, status: number, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.field = field;
  }

  /** True when no answer came from the API (network down, dev proxy without a backend). */
  get unreachable(): boolean {
    // Vite's dev proxy answers 502/504 when Django is not running.
    return this.status === 0 || this.status === 502 || this.status === 504;
  }
}

/** Builds '/api/<path>?<params>', dropping empty params. */
export function apiUrl(path: string, params: QueryParams = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const query = search.toString();
  return `/api/${path.replace(/^\/+/, '')}${query ? `?${query}` : ''}`;
}

/** One page of a list endpoint and the cursor of the next page (its RFC 8288 `rel="next"` link). */
export interface Page<T> {
  items: T[];
  /** The `cursor` of the next page's URL; null on the last page, or from a server that does not page. */
  nextCursor: string | null;
}

async function get(path: string, params: QueryParams, signal: AbortSignal | undefined): Promise<Response> {
  // Resolve against the page's origin so the same code runs in the browser and in tests.
  const url = new URL(apiUrl(path, params), window.location.origin);
  try {
    return await fetch(url, { headers: { Accept: 'application/json' }, signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError('The API cannot be reached.', 0);
  }
}

/** GETs a JSON document from the API; rejects with ApiError on any failure. */
export async function apiGet<T>(
  path: string,
  params: QueryParams = {},
  options: { signal?: AbortSignal } = {},
): Promise<T> {
  return readJson<T>(await get(path, params, options.signal));
}

/** GETs one page of a JSON array, with the cursor its `Link: <...>; rel="next"` header gives. */
export async function apiGetPage<T>(
  path: string,
  params: QueryParams = {},
  options: { signal?: AbortSignal } = {},
): Promise<Page<T>> {
  const response = await get(path, params, options.signal);
  const items = await readJson<T[]>(response);
  const next = parseLinkHeader(response.headers.get('Link')).next;
  const nextCursor = next ? new URL(next, window.location.origin).searchParams.get('cursor') : null;
  return { items, nextCursor };
}

async function readJson<T>(response: Response): Promise<T> {
  if (!response.ok) {
    let body: { error?: string; field?: string } = {};
    try {
      body = await response.json();
    } catch {
      // Not JSON (a proxy error page, say): the status alone has to do.
    }
    throw new ApiError(body.error ?? `The API answered HTTP ${response.status}.`, response.status, body.field);
  }
  // 204 No Content (a DELETE) has no body to read.
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Django's CSRF token from the csrftoken cookie, which it sets for a signed-in session. */
function csrfToken(): string | undefined {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : undefined;
}

/**
 * Sends a write to the API with the session's CSRF token, and a JSON body when given;
 * rejects with ApiError (its `field` names the bad input of a 400) on any failure.
 */
export async function apiSend<T>(
  method: 'POST' | 'PATCH' | 'DELETE',
  path: string,
  { body, params = {} }: { body?: unknown; params?: QueryParams } = {},
): Promise<T> {
  const url = new URL(apiUrl(path, params), window.location.origin);
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = csrfToken();
  if (token) headers['X-CSRFToken'] = token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('The API cannot be reached.', 0);
  }
  return readJson<T>(response);
}

/** POSTs to the API with the session's CSRF token (no body); rejects with ApiError on any failure. */
export function apiPost<T>(path: string): Promise<T> {
  return apiSend<T>('POST', path);
}

/** Puts an error from a query into a sentence for the page. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.unreachable) return 'The API cannot be reached. Is the Django server (python manage.py runserver) running?';
    if (error.status === 404) return error.message || 'Not found.';
    if (error.status === 503) return 'The API is up but its database is unavailable (HTTP 503).';
    if (error.status >= 500) return `The server failed (HTTP ${error.status}). Its log says why.`;
    return error.field ? `${error.message} (${error.field})` : error.message;
  }
  return error instanceof Error ? error.message : 'Something went wrong.';
}
