import cliProgress from 'cli-progress';
import type { ProgressEvent, ProgressListener } from '../engine/api/contract.js';

const PHASE_LABEL: Record<ProgressEvent['phase'], string> = {
  backbone: 'backbone',
  scan: 'scanning',
  embed: 'embedding',
  train: 'training',
  evaluate: 'evaluating',
  commit: 'saving',
  watch: 'watching',
};

export interface ProgressReporter {
  listener: ProgressListener;
  stop(): void;
}

/**
 * Progress goes to stderr so stdout stays one JSON object: a live bar on a terminal,
 * a line per phase (and every few seconds during long phases) when stderr is a file or pipe.
 */
export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  return stream.isTTY ? terminalReporter(stream) : lineReporter(stream);
}

function terminalReporter(stream: NodeJS.WriteStream): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    { stream, format: ' {phase} |{bar}| {value}/{total} {message}', hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let phase: string | undefined;
  return {
    listener(event) {
      const payload = { phase: PHASE_LABEL[event.phase].padEnd(10), message: event.message ?? '' };
      if (phase !== event.phase) {
        if (phase) bar.stop();
        phase = event.phase;
        bar.start(Math.max(event.total, 1), event.done, payload);
      } else {
        bar.setTotal(Math.max(event.total, 1));
        bar.update(event.done, payload);
      }
    },
    stop() {
      if (phase) bar.stop();
      phase = undefined;
    },
  };
}

function lineReporter(stream: NodeJS.WriteStream): ProgressReporter {
  let phase: string | undefined;
  let lastLine = 0;
  return {
    listener(event) {
      const now = Date.now();
      const phaseChanged = phase !== event.phase;
      const finished = event.done >= event.total && event.total > 0;
      if (phaseChanged || now - lastLine > 5000 || (finished && event.total > 1)) {
        phase = event.phase;
        lastLine = now;
        stream.write(`keizoku: ${PHASE_LABEL[event.phase]} ${event.done}/${event.total}${event.message ? ` ${event.message}` : ''}\n`);
      }
    },
    stop() {},
  };
}
