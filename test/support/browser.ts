// Debian's chromium driven by playwright-core, and the built `keizoku serve` as a real process.
import { chromium, type Browser } from 'playwright-core';
import { startCli } from './project.js';

export const CHROMIUM = process.env.KEIZOKU_CHROMIUM ?? '/usr/bin/chromium';

export interface ChromiumOptions {
  /** a fake camera (Chromium's moving test pattern) that every page may use without asking */
  fakeCamera?: boolean;
}

/** Flags chromium needs as root in a container, and without its background connections (playwright gives each launch a fresh profile). */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.fakeCamera ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] : []),
    ],
  });
}

/** Starts `keizoku serve` on a free port and resolves once it prints its address. */
export async function startServe(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const server = startCli(['serve', '--port', '0', ...args], env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /at (http:\/\/\S+)/.exec(server.output().stdout);
      if (match) {
        clearInterval(timer);
        resolve(match[1]!);
      }
    }, 100);
    void server.exited.then((exit) => {
      clearInterval(timer);
      reject(new Error(`serve exited early (${exit.code ?? exit.signal}): ${server.output().stderr}`));
    });
  });
  return {
    ...server,
    url,
    async stop() {
      server.child.kill('SIGTERM');
      return server.exited;
    },
  };
}
