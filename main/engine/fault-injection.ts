/**
 * Named points where tests kill the process for real (SIGKILL, no cleanup) to prove that an
 * update interrupted anywhere leaves the previous version intact. Inert unless
 * KEIZOKU_FAULT_AT names the point.
 */
export type FaultPoint = 'after-embed' | 'after-train' | 'inside-commit';

export function maybeCrash(point: FaultPoint): void {
  if (process.env.KEIZOKU_FAULT_AT === point) process.kill(process.pid, 'SIGKILL');
}
