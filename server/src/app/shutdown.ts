import os from 'node:os';

/** A repeat within this long is the same request delivered twice (a launcher relaying it), not a second one. */
const REPEAT_AFTER_MS = 1000;

/**
 * Stop signals for the long-running processes (`npm run serve`, its cluster primary, `npm run worker`).
 * The first SIGTERM or SIGINT starts `stop`, which ends the process itself once it is done. The same
 * signal again, a second or more later, exits at once with 128 + its number (Ctrl-C twice; an
 * orchestrator's second SIGTERM). A different one is ignored: `npm start` and a terminal's Ctrl-C to a
 * cluster deliver SIGINT and a forwarded SIGTERM together, and that must not cut the drain short.
 * `beforeExit` runs just before that exit (the cluster primary passes the signal on).
 */
export function onStopSignals(stop: (signal: NodeJS.Signals) => Promise<void>, options: { beforeExit?: () => void } = {}): void {
  let first: NodeJS.Signals | undefined;
  let firstAt = 0;
  const handle = (signal: NodeJS.Signals) => {
    if (first === undefined) {
      first = signal;
      firstAt = Date.now();
      stop(signal).catch((error: unknown) => {
        console.error(`${signal}: stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      });
    } else if (signal === first && Date.now() - firstAt >= REPEAT_AFTER_MS) {
      console.error(`${signal} again: exiting now`);
      options.beforeExit?.();
      process.exit(128 + os.constants.signals[signal]);
    }
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
