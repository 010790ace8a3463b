import { useSyncExternalStore } from 'react';

// One clock for the whole page: every ticking "3 s ago" subscribes to the same
// timer, and it stops when nothing listens or the tab is hidden.
const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;

function tick() {
  now = Date.now();
  listeners.forEach((listener) => listener());
}

function start() {
  if (timer === undefined && (typeof document === 'undefined' || document.visibilityState !== 'hidden')) {
    tick();
    timer = setInterval(tick, 1000);
  }
}

function stop() {
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
}

function onVisibilityChange() {
  if (document.visibilityState === 'hidden') stop();
  else if (listeners.size > 0) start();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  if (listeners.size === 1) {
    document.addEventListener('visibilitychange', onVisibilityChange);
    start();
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      stop();
      document.removeEventListener('visibilitychange', onVisibilityChange);
    }
  };
}

const getSnapshot = () => now;

/** The current time in ms, updated once a second while the page is visible. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
