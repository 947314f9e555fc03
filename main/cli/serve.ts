import path from 'node:path';
import { startServer } from '../server/http-server.js';
import { rendererDir } from '../server/renderer-dir.js';
import type { CommonOptions } from './options.js';
import { resolveServeToken } from './serve-token.js';

export const DEFAULT_PORT = 7720;

/** `keizoku serve`: runs until SIGINT/SIGTERM, then stops the engine cleanly (an update in flight is cancelled safely). */
export async function runServe(options: CommonOptions): Promise<number> {
  const token = await resolveServeToken(options, process.env, (line) => process.stderr.write(`${line}\n`));
  const server = await startServer({
    engine: {
      root: path.resolve(options.root!),
      stateDir: options.state,
      modelDir: options['model-dir'],
      allowDownload: !options['no-download'],
    },
    host: options.host ?? '127.0.0.1',
    port: options.port ?? DEFAULT_PORT,
    token,
    rendererDir: rendererDir(),
  });
  const shown = token ? `${server.url}?token=${encodeURIComponent(token)}` : server.url;
  process.stdout.write(options.json ? `${JSON.stringify({ command: 'serve', url: server.url, root: path.resolve(options.root!) })}\n` : `Keizoku is serving ${path.resolve(options.root!)} at ${shown}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
