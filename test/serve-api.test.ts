// `keizoku serve` as a real process: who may call it, what it accepts, what it serves, and
// that an update cancelled through the API leaves the previous version current.
import { request as httpRequest } from 'node:http';
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API } from '../main/engine/api/app-api.js';
import { CONTENT_SECURITY_POLICY } from '../main/server/content-security.js';
import { startServe } from './support/browser.js';
import { addCaltechClasses, runCli, tempDir } from './support/project.js';

const TOKEN = 'a-long-enough-test-token';

function post(url: string, method: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(new URL(`api/${method}`, url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A raw request, for headers fetch will not let us forge (Host, a false Content-Length). */
function raw(url: string, options: { method: string; path: string; headers: Record<string, string | number>; body?: string }) {
  const target = new URL(url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, method: options.method, path: options.path, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('keizoku serve', () => {
  it('refuses to listen beyond loopback without a token', () => {
    const run = runCli(['serve', '--root', tempDir(), '--host', '0.0.0.0', '--port', '0']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/token/);
  });

  it('serves the renderer with a strict CSP and validates every API request', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['ketch'], { limit: 2 });
    const outside = tempDir();
    writeFileSync(path.join(outside, 'secret.jpg'), readFileSync(path.join(root, 'ketch', readdirSync(path.join(root, 'ketch'))[0]!)));
    symlinkSync(path.join(outside, 'secret.jpg'), path.join(root, 'ketch', 'link.jpg'));
    const server = await startServe(['--root', root]);
    try {
      const page = await fetch(server.url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(await page.text()).toContain('<div id="app">');
      expect((await fetch(new URL('assets/../../package.json', server.url))).status).toBe(404);

      const overview = await post(server.url, 'overview', {});
      expect(overview.status).toBe(200);
      expect(API.overview.result.parse(((await overview.json()) as { result: unknown }).result).classes[0]?.name).toBe('ketch');

      // Every learner offered comes with what it does and what it costs, for the Settings screen.
      const settings = API.settings.result.parse(((await (await post(server.url, 'settings', {})).json()) as { result: unknown }).result);
      expect(settings.learners).toContain('analytic');
      for (const learner of settings.learners) {
        expect(settings.learnerDescriptions[learner]?.summary, learner).toMatch(/\w/);
        expect(settings.learnerDescriptions[learner]?.cost, learner).toMatch(/\w/);
      }

      const cases: Array<[string, unknown, number]> = [
        ['overview', { extra: 1 }, 400],
        ['rollback', { id: 'one' }, 400],
        ['versionDetail', { id: 99 }, 400],
        ['thumbnail', { path: '../../etc/passwd' }, 400],
        ['thumbnail', { path: 'ketch/link.jpg' }, 400],
        ['importFiles', { files: [] }, 400],
        ['frobnicate', {}, 404],
        ['overview', '{not json', 400],
        // Review's file actions: nothing outside the project, no links, only existing class folders.
        ['moveSample', { path: '../../etc/passwd', toClass: 'ketch' }, 400],
        ['moveSample', { path: '/etc/passwd', toClass: 'ketch' }, 400],
        ['moveSample', { path: 'ketch/link.jpg', toClass: 'ketch' }, 400],
        ['moveSample', { path: 'ketch/link.jpg', toClass: '../..' }, 400],
        ['moveSample', { path: 'ketch/link.jpg' }, 400],
        ['undoMove', { id: 0 }, 400],
        ['excludeSample', { path: '../secret.jpg' }, 400],
        ['samplePreview', { path: '../../etc/passwd' }, 400],
      ];
      for (const [method, body, status] of cases) {
        const response = await post(server.url, method, body);
        expect(response.status, `${method} ${JSON.stringify(body)}`).toBe(status);
        const answer = (await response.json()) as { error: { code: string; message: string } };
        expect(answer.error.message.length).toBeGreaterThan(0);
      }
      const noClass = await post(server.url, 'moveSample', { path: `ketch/${readdirSync(path.join(root, 'ketch')).sort()[0]}`, toClass: 'helicopters' });
      expect(((await noClass.json()) as { error: { message: string } }).error.message).toBe('no class folder named "helicopters" in the project');
      // A class name taken by a file: that file is answered with a reason, the batch goes on, no 500.
      writeFileSync(path.join(root, 'notes'), 'a file where a class folder would go');
      const photo = readFileSync(path.join(root, 'ketch', readdirSync(path.join(root, 'ketch')).sort()[0]!)).toString('base64');
      const imported = await post(server.url, 'importFiles', {
        files: [
          { className: 'notes', fileName: 'a.jpg', dataBase64: photo },
          { className: 'ketch', fileName: 'dropped.jpg', dataBase64: photo },
        ],
      });
      expect(imported.status).toBe(200);
      const importResult = API.importFiles.result.parse(((await imported.json()) as { result: unknown }).result);
      expect(importResult.imported).toEqual(['ketch/dropped.jpg']);
      expect(importResult.rejected).toEqual([{ path: 'notes/a.jpg', reason: 'a file named "notes" is in the way of the class folder' }]);

      const plainText = await fetch(new URL('api/overview', server.url), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
      expect(plainText.status).toBe(415);
      const port = new URL(server.url).port;
      const rebound = await raw(server.url, { method: 'POST', path: '/api/overview', headers: { host: `evil.example:${port}`, 'content-type': 'application/json' }, body: '{}' });
      expect(rebound.status).toBe(421);
      const huge = await raw(server.url, { method: 'POST', path: '/api/importFiles', headers: { 'content-type': 'application/json', 'content-length': 500 * 1024 * 1024 } });
      expect(huge.status).toBe(413);
    } finally {
      await server.stop();
    }
  });

  it('with a token, refuses API calls that lack it', async () => {
    const server = await startServe(['--root', tempDir(), '--token', TOKEN]);
    try {
      expect((await post(server.url, 'overview', {})).status).toBe(401);
      expect((await post(server.url, 'overview', {}, { authorization: 'Bearer wrong-token-of-some-length' })).status).toBe(401);
      expect((await post(server.url, 'overview', {}, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
      expect((await fetch(new URL(`api/events?token=${TOKEN}`, server.url))).headers.get('content-type')).toBe('text/event-stream');
    } finally {
      await server.stop();
    }
  });

  it('exports the current model and offers exactly its two files for download, behind the token', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['ketch', 'chair'], { limit: 6 });
    const server = await startServe(['--root', root, '--token', TOKEN]);
    const auth = { authorization: `Bearer ${TOKEN}` };
    try {
      const early = await post(server.url, 'exportModel', {}, auth);
      expect(early.status).toBe(409);
      expect(((await early.json()) as { error: { code: string } }).error.code).toBe('no-model');
      expect((await post(server.url, 'update', {}, auth)).status).toBe(200);
      const response = await post(server.url, 'exportModel', {}, auth);
      expect(response.status).toBe(200);
      const exported = API.exportModel.result.parse(((await response.json()) as { result: unknown }).result);
      expect(exported.out).toBe(path.join(root, '.keizoku', 'exports', 'v1', 'model.onnx'));

      const model = await fetch(new URL(`api/exported/v1/model.onnx?token=${TOKEN}`, server.url));
      expect(model.status).toBe(200);
      expect(model.headers.get('content-disposition')).toBe('attachment; filename="keizoku-v1-model.onnx"');
      expect(Buffer.from(await model.arrayBuffer()).equals(readFileSync(exported.out))).toBe(true);
      const labels = await fetch(new URL('api/exported/v1/labels.json', server.url), { headers: auth });
      expect(((await labels.json()) as { classNames: string[] }).classNames).toEqual(exported.classNames);

      expect((await fetch(new URL('api/exported/v1/model.onnx', server.url))).status).toBe(401);
      for (const wrong of ['v2/model.onnx', 'v1/../../ketch/x.jpg', 'v1/project.db', 'v0/model.onnx', '../project.db']) {
        const answer = await raw(server.url, { method: 'GET', path: `/api/exported/${wrong}`, headers: { ...auth } });
        expect(answer.status, wrong).toBe(404);
      }
    } finally {
      await server.stop();
    }
  });

  it('streams update progress, and an update cancelled mid-way leaves the previous version current', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 5 });
    expect(runCli(['update', '--root', root, '--json']).status).toBe(0);
    const server = await startServe(['--root', root]);
    try {
      const events = await fetch(new URL('api/events', server.url));
      const reader = events.body!.getReader();
      // Many new photos, so the update is still embedding when the cancel arrives.
      addCaltechClasses(root, ['bonsai', 'chandelier', 'Motorbikes'], { limit: 30 });
      const update = post(server.url, 'update', {});
      const decoder = new TextDecoder();
      let seen = '';
      while (!/"task":"update","phase":"embed"/.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`event stream ended: ${seen}`);
        seen += decoder.decode(value);
      }
      const cancel = await post(server.url, 'cancelUpdate', {});
      expect(((await cancel.json()) as { result: { cancelled: boolean } }).result.cancelled).toBe(true);
      const answer = await update;
      expect(answer.status).toBe(409);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('cancelled');
      await reader.cancel();
      const versions = API.versions.result.parse(((await (await post(server.url, 'versions', {})).json()) as { result: unknown }).result);
      expect(versions.head).toBe(1);
      expect(versions.versions).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });
});
