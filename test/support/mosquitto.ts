// A real Mosquitto broker for the fleet tests: Debian's /usr/sbin/mosquitto on a free
// 127.0.0.1 port with a temporary configuration, stopped by the test that started it.
// Without the binary the fleet tests skip and say why, unless KEIZOKU_REQUIRE_MOSQUITTO=1
// (set by .ci/run, which installs it), where they fail instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './project.js';

export const MOSQUITTO_BIN = process.env.KEIZOKU_MOSQUITTO ?? '/usr/sbin/mosquitto';
export const MOSQUITTO_AVAILABLE = existsSync(MOSQUITTO_BIN);
export const MOSQUITTO_REQUIRED = process.env.KEIZOKU_REQUIRE_MOSQUITTO === '1';
export const MOSQUITTO_SKIP_REASON = `${MOSQUITTO_BIN} not found: install Debian's mosquitto (apt-get install mosquitto) to run the fleet tests`;

export interface Broker {
  url: string;
  port: number;
  /** what the broker printed (its log goes to stderr) */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startMosquitto(extraConfig: readonly string[] = []): Promise<Broker> {
  if (!MOSQUITTO_AVAILABLE) throw new Error(MOSQUITTO_SKIP_REASON);
  const dir = tempDir('keizoku-mosquitto-');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ...extraConfig, ''].join('\n'));
  const child: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${log}`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not listen on 127.0.0.1:${port}: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
