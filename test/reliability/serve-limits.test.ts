// `keizoku serve` under load and hostile input, as a real process: request bodies share one
// byte budget (the rest are told `busy`), event streams are capped, the JSON media type is
// exact, and the access token can stay out of `ps`.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drill as recordDrill } from './support/drill-log.js';
import { fetchRetryingBusy } from '../../renderer/src/lib/busy-retry.js';
import { startServe } from '../support/browser.js';
import { REPO_ROOT } from '../support/paths.js';
import { tempDir, testEnv } from '../support/project.js';

const TOKEN = 'a-long-enough-test-token';
const MB = 1024 * 1024;
const BIG = 105 * MB;
/** What the server may hold at once; the drills below are sized against it. */
const BUDGET = 144 * MB;
const EVENT_STREAM_CAP = 64;

/** Each test here is one try of its drill, recorded in the run's reliability table. */
const drill = (name: string, body: () => Promise<void>) => recordDrill(`serve: ${name}`, [name], body);

/** A valid JSON body of exactly `size` bytes that `overview` refuses (it takes no fields). */
function paddedJson(size: number): Buffer {
  const body = Buffer.alloc(size, 'a');
  body.write('{"pad":"', 0);
  body.write('"}', size - 2);
  return body;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Keep-alive, so the server can drain a refused body instead of resetting a client mid-upload. */
const keepAlive = new Agent({ keepAlive: true, maxSockets: Infinity });
afterAll(() => keepAlive.destroy());

/**
 * A POST whose body we send when we choose. With `expectContinue`, `started` tells whether the
 * server took the call (100 Continue: its bytes are reserved) or answered first.
 */
function upload(url: string, options: { method?: string; length?: number; expectContinue?: boolean; headers?: Record<string, string> }) {
  const target = new URL(url);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', ...options.headers };
  if (options.length !== undefined) headers['content-length'] = options.length;
  if (options.expectContinue) headers.expect = '100-continue';
  const req = httpRequest({ host: target.hostname, port: target.port, method: 'POST', path: `/api/${options.method ?? 'overview'}`, headers, agent: keepAlive });
  let answered = false;
  const response = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    // After an answer, a reset of the rest of our upload is the server's right.
    req.on('error', (error) => (answered ? undefined : reject(error)));
  });
  const started = new Promise<boolean>((resolve) => {
    req.on('continue', () => resolve(true));
    void response.then(() => resolve(false), () => resolve(false));
  });
  req.flushHeaders();
  return {
    started,
    response,
    // Resolves on a closed connection too, so a drill fails on its assertions rather than hanging.
    send: (bytes: Buffer) =>
      new Promise<void>((resolve) => {
        if (req.write(bytes)) return resolve();
        const done = () => {
          req.off('drain', done).off('close', done);
          resolve();
        };
        req.on('drain', done).on('close', done);
      }),
    end: (bytes?: Buffer) => req.end(bytes),
    abort: () => req.destroy(),
  };
}

/**
 * Whether the server would take a maximal-size call now, without sending one. The probe then
 * hangs up, and its own reservation lasts until the server notices: callers that probe again
 * soon after a yes use `eventually`.
 */
async function bigCallFits(url: string): Promise<boolean> {
  const probe = upload(url, { length: BIG, expectContinue: true });
  const fits = await probe.started;
  probe.abort();
  await probe.response.catch(() => undefined);
  return fits;
}

/** Polls `check` for at most ten seconds (a bound on tries, not a speed claim). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`never: ${what}`);
}

function errorCode(answer: Answer): string | undefined {
  return (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;
}

function memoryKb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

function overview(url: string, headers: Record<string, string> = {}) {
  return fetch(new URL('api/overview', url), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
}

/** An event stream held open; a refused one is read to its end. */
function openStream(url: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string; close: () => void }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, method: 'GET', path: '/api/events', agent: false }, (res) => {
      const close = () => req.destroy();
      if (res.statusCode === 200) return resolve({ status: 200, headers: res.headers, body: '', close });
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, close }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.runIf(process.platform === 'linux')('keizoku serve limits', () => {
  it('reads at most its byte budget of request bodies at once, tells the rest busy, frees it on every path, and stays small', async () => {
    await drill('body byte budget', async () => {
      const server = await startServe(['--root', tempDir()]);
      try {
        const pid = server.child.pid!;
        expect((await overview(server.url)).status).toBe(200);
        const before = memoryKb(pid);
        const big = paddedJson(BIG);

        // A takes most of the budget and keeps it while its upload is half done.
        const first = upload(server.url, { length: BIG, expectContinue: true });
        expect(await first.started).toBe(true);
        await first.send(big.subarray(0, BIG / 2));

        // Three more maximal bodies at once, as a browser sends them: none fits beside A.
        const others = [1, 2, 3].map(() => {
          const other = upload(server.url, { length: BIG });
          other.end(big);
          return other.response;
        });
        // A chunked body, no length declared: refused once what arrived crosses the budget.
        const chunked = upload(server.url, {});
        const chunkedSent = (async () => {
          for (let sent = 0; sent < 60 * MB; sent += MB) await chunked.send(big.subarray(sent, sent + MB));
          chunked.end();
        })();
        // Small calls still fit beside A.
        expect((await overview(server.url)).status).toBe(200);

        for (const answer of [...(await Promise.all(others)), await chunked.response]) {
          expect(answer.status).toBe(503);
          expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
          expect(errorCode(answer)).toBe('busy');
        }
        await chunkedSent;

        // A curl-style client (Expect: 100-continue) is refused before it sends a byte.
        expect(await bigCallFits(server.url)).toBe(false);
        first.end(big.subarray(BIG / 2));
        const done = await first.response;
        expect(done.status).toBe(400); // read in full and judged: overview takes no fields
        expect(errorCode(done)).toBe('usage');

        // Freed after an answer, and after an upload abandoned half way.
        let abandoned = upload(server.url, { length: BIG, expectContinue: true });
        await eventually(async () => {
          if (await abandoned.started) return true;
          abandoned = upload(server.url, { length: BIG, expectContinue: true });
          return false;
        }, 'the budget is free after an answered call');
        await abandoned.send(big.subarray(0, 10 * MB));
        expect(await bigCallFits(server.url)).toBe(false);
        abandoned.abort();
        await eventually(() => bigCallFits(server.url), 'the budget is free after an abandoned upload');
        // Too large for any budget: 413, and nothing stays reserved.
        const huge = upload(server.url, { length: 500 * MB });
        huge.end();
        expect((await huge.response).status).toBe(413);
        await eventually(() => bigCallFits(server.url), 'the budget is free after a 413');

        expect((await overview(server.url)).status).toBe(200);
        const grownMb = (memoryKb(pid).peak - before.rss) / 1024;
        process.stdout.write(`serve-limits: server RSS ${Math.round(before.rss / 1024)} MB before, peak growth ${Math.round(grownMb)} MB\n`);
        // Unbounded, the four bodies took 1.2 GB more; one at a time stays well under this.
        expect(grownMb).toBeLessThan(600);
      } finally {
        await server.stop();
      }
    });
  });

  it('caps concurrent event streams with 429 busy, and a closed stream frees its slot', async () => {
    await drill('event stream cap', async () => {
      const server = await startServe(['--root', tempDir()]);
      const streams: Array<Awaited<ReturnType<typeof openStream>>> = [];
      try {
        const refused: Answer[] = [];
        for (let i = 0; i < 200; i++) {
          const stream = await openStream(server.url);
          if (stream.status === 200) streams.push(stream);
          else refused.push(stream);
        }
        expect(streams).toHaveLength(EVENT_STREAM_CAP);
        expect(refused).toHaveLength(200 - EVENT_STREAM_CAP);
        for (const answer of refused) {
          expect(answer.status).toBe(429);
          expect(errorCode(answer)).toBe('busy');
          expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
        }
        expect((await overview(server.url)).status).toBe(200);

        for (const stream of streams.splice(0, 10)) stream.close();
        let reopened = 0;
        await eventually(async () => {
          const stream = await openStream(server.url);
          if (stream.status === 200) {
            streams.push(stream);
            reopened++;
          }
          return reopened === 10;
        }, 'ten closed streams free ten slots');
        expect((await openStream(server.url)).status).toBe(429);
      } finally {
        for (const stream of streams) stream.close();
        await server.stop();
      }
    });
  });

  it('takes exactly application/json, in any case and with parameters', async () => {
    await drill('exact application/json', async () => {
      const server = await startServe(['--root', tempDir()]);
      try {
        const post = (contentType: string) => fetch(new URL('api/overview', server.url), { method: 'POST', headers: { 'content-type': contentType }, body: '{}' });
        for (const refused of ['application/jsonx', 'application/json-patch+json', 'text/plain', 'application/json2; charset=utf-8', '']) {
          expect((await post(refused)).status, refused).toBe(415);
        }
        for (const accepted of ['application/json', 'Application/JSON; charset=utf-8', ' application/json ;charset=UTF-8']) {
          expect((await post(accepted)).status, accepted).toBe(200);
        }
      } finally {
        await server.stop();
      }
    });
  });

  it('retries a call answered busy until the server has room (the HTTP bridge)', async () => {
    await drill('busy retried by the bridge', async () => {
      const server = await startServe(['--root', tempDir()]);
      try {
        const big = paddedJson(BIG);
        const first = upload(server.url, { length: BIG, expectContinue: true });
        expect(await first.started).toBe(true);
        const second = paddedJson(BUDGET - BIG + MB); // just over what is left beside A
        let busy = 0;
        const answer = await fetchRetryingBusy(() => fetch(new URL('api/overview', server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: second }), {
          onBusy: () => {
            if (busy++ === 0) first.end(big);
          },
        });
        expect(busy).toBeGreaterThan(0);
        expect(answer.status).toBe(400); // read and judged, not busy
        expect((await first.response).status).toBe(400);
      } finally {
        await server.stop();
      }
    });
  });
});

describe.runIf(process.platform === 'linux')('keizoku serve access token kept out of ps', () => {
  const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8');

  async function expectGuarded(server: Awaited<ReturnType<typeof startServe>>) {
    expect(cmdline(server.child.pid!)).not.toContain(TOKEN);
    expect((await overview(server.url)).status).toBe(401);
    expect((await overview(server.url, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  }

  it('reads the token from KEIZOKU_TOKEN', async () => {
    await drill('token from KEIZOKU_TOKEN', async () => {
      const server = await startServe(['--root', tempDir()], { KEIZOKU_TOKEN: TOKEN });
      try {
        await expectGuarded(server);
      } finally {
        await server.stop();
      }
    });
  });

  it('reads the token from --token-file (first line), and warns when others may read the file', async () => {
    await drill('token from --token-file', async () => {
      const file = path.join(tempDir(), 'token');
      writeFileSync(file, `  ${TOKEN}  \nsecond line is ignored\n`, { mode: 0o600 });
      const server = await startServe(['--root', tempDir(), '--token-file', file]);
      try {
        await expectGuarded(server);
        expect(server.output().stderr).not.toMatch(/readable by others/);
      } finally {
        await server.stop();
      }
      chmodSync(file, 0o644);
      const open = await startServe(['--root', tempDir(), '--token-file', file]);
      try {
        await expectGuarded(open);
        expect(open.output().stderr).toMatch(/readable by others/);
      } finally {
        await open.stop();
      }
    });
  });

  it('refuses a FIFO, a short token and two token sources at once, without hanging', async () => {
    await drill('bad token sources refused', async () => {
      const dir = tempDir();
      const fifo = path.join(dir, 'token.fifo');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const short = path.join(dir, 'short');
      writeFileSync(short, 'too-short\n', { mode: 0o600 });
      const cases: Array<[string[], RegExp]> = [
        [['--token-file', fifo], /not a regular file/],
        [['--token-file', dir], /not a regular file/],
        [['--token-file', short], /at least 16 characters/],
        [['--token-file', path.join(dir, 'missing')], /cannot read the token file/],
        [['--token', TOKEN, '--token-file', short], /either --token or --token-file/],
      ];
      for (const [args, message] of cases) {
        // A FIFO without a writer blocks a plain open forever; the timeout turns a hang into a failure.
        const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'keizoku.js'), 'serve', '--root', dir, '--port', '0', ...args], {
          encoding: 'utf8',
          env: testEnv(),
          timeout: 30_000,
        });
        expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(2);
        expect(run.stderr).toMatch(message);
      }
    });
  });
});
