import { existsSync } from 'node:fs';

/**
 * Named points where the reliability drills stop the process for real, to prove that an
 * update interrupted anywhere leaves the previous version intact. Inert unless set:
 * - KEIZOKU_FAULT_AT=<point>: SIGKILL at that point (no cleanup, as a power cut or OOM kill);
 * - KEIZOKU_HOLD_AT=<point> with KEIZOKU_HOLD_FILE=<path>: print `keizoku: holding at <point>`
 *   on stderr and wait there until that file exists (a live update, paused, for lock drills).
 */
export type FaultPoint = 'before-scan' | 'after-embed' | 'after-train' | 'after-evaluate' | 'inside-commit' | 'after-commit';

export function maybeCrash(point: FaultPoint): void {
  if (process.env.KEIZOKU_FAULT_AT === point) process.kill(process.pid, 'SIGKILL');
  if (process.env.KEIZOKU_HOLD_AT === point && process.env.KEIZOKU_HOLD_FILE) holdUntil(point, process.env.KEIZOKU_HOLD_FILE);
}

function holdUntil(point: FaultPoint, releaseFile: string): void {
  process.stderr.write(`keizoku: holding at ${point}\n`);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  // Blocks this thread on purpose: a held update must do nothing until released.
  while (!existsSync(releaseFile)) Atomics.wait(pause, 0, 0, 25);
}

