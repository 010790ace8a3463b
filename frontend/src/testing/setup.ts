import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach, vi } from 'vitest';

// jsdom has no matchMedia: answer "light theme, nothing matches".
const inBrowser = typeof window !== 'undefined';
if (inBrowser && typeof window.matchMedia !== 'function') {
  Object.defineProperty(window, 'matchMedia', {
    writable: true,
    value: (query: string) => ({
      matches: false,
      media: query,
      onchange: null,
      addEventListener: () => {},
      removeEventListener: () => {},
      addListener: () => {},
      removeListener: () => {},
      dispatchEvent: () => false,
    }),
  });
}

// jsdom does not scroll; the virtualised table asks it to.
if (inBrowser) window.scrollTo = () => {};

// jsdom cannot draw on a canvas: the chart component is replaced by a canvas
// that records what it was given (see testing/chart-mock.tsx).
vi.mock('react-chartjs-2', async () => await import('./chart-mock'));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});
