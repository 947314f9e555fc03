// The window's reach into the engine: only the methods the UI calls, only from our own page,
// only with requests that pass their schemas. Electron cannot run here, so the main process's
// decision is tested as the pure function the IPC handler uses, and the preload as its own
// source, run against a stand-in for Electron's two preload objects.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { API_METHODS } from '../main/engine/api/app-api.js';
import { RENDERER_METHODS } from '../main/engine/api/renderer-methods.js';
import { chooseProjectLabels, ENGLISH_CHOOSE_PROJECT_LABELS } from '../main/shell/dialog-labels.js';
import { CALL_CHANNEL, CHOOSE_PROJECT_CHANNEL } from '../main/shell/ipc-channels.js';
import { decideCall, isTrustedSender, type IpcSender } from '../main/shell/ipc-policy.js';
import { REPO_ROOT } from './support/paths.js';

/** Names that are not methods of ours but are properties of every object (a lookup by `in` or `[]` would find them). */
const NOT_METHODS: unknown[] = ['nope', '__proto__', 'constructor', 'hasOwnProperty', 'toString', '', 42, undefined, null, { toString: () => 'overview' }];

describe('the IPC decision', () => {
  it('refuses an untrusted sender before looking at the method or the request', () => {
    expect(decideCall(false, 'overview', {})).toEqual({ allowed: false, error: { code: 'forbidden', message: 'untrusted sender' } });
    expect(decideCall(false, 'nope', 'garbage')).toEqual({ allowed: false, error: { code: 'forbidden', message: 'untrusted sender' } });
  });

  it('answers forbidden for every name outside RENDERER_METHODS, API methods the window does not use included', () => {
    const apiOnly = API_METHODS.filter((method) => !(RENDERER_METHODS as readonly string[]).includes(method));
    for (const method of [...NOT_METHODS, ...apiOnly]) {
      const decision = decideCall(true, method, {});
      expect(decision.allowed, String(method)).toBe(false);
      if (!decision.allowed) expect(decision.error.code).toBe('forbidden');
    }
  });

  it('answers usage for a request its schema rejects, naming the field', () => {
    const wrongType = decideCall(true, 'versionDetail', { id: 'three' });
    expect(wrongType.allowed).toBe(false);
    if (!wrongType.allowed) expect(wrongType.error).toMatchObject({ code: 'usage', message: expect.stringMatching(/^id: /) });
    const extraKey = decideCall(true, 'overview', { path: '/etc/passwd' }); // schemas are strict: no smuggled fields
    expect(extraKey.allowed).toBe(false);
    if (!extraKey.allowed) expect(extraKey.error.code).toBe('usage');
    const notAnObject = decideCall(true, 'update', undefined);
    expect(notAnObject.allowed).toBe(false);
  });

  it('lets an allowed method with a valid request through, with the parsed request', () => {
    expect(decideCall(true, 'versionDetail', { id: 3 })).toEqual({ allowed: true, method: 'versionDetail', request: { id: 3 } });
    expect(decideCall(true, 'setSettings', { replayPerClass: 20 })).toEqual({ allowed: true, method: 'setSettings', request: { replayPerClass: 20 } });
  });
});

describe('the trusted sender', () => {
  const ours = { webContents: { id: 1 } };
  const appUrl = (url: string) => url.startsWith('file:///app/dist/renderer/');
  const topFrame = (url: string, sender: unknown = ours.webContents): IpcSender => ({ sender, senderFrame: { parent: null, url } });

  it('is our window\'s top frame showing our own page, and nothing else', () => {
    expect(isTrustedSender(topFrame('file:///app/dist/renderer/index.html'), ours, appUrl)).toBe(true);
    expect(isTrustedSender(topFrame('file:///app/dist/renderer/index.html'), undefined, appUrl)).toBe(false); // no window yet
    expect(isTrustedSender(topFrame('file:///app/dist/renderer/index.html', { id: 2 }), ours, appUrl)).toBe(false); // another window
    expect(isTrustedSender(topFrame('https://example.invalid/'), ours, appUrl)).toBe(false); // navigated away
    const subframe: IpcSender = { sender: ours.webContents, senderFrame: { parent: {}, url: 'file:///app/dist/renderer/index.html' } };
    expect(isTrustedSender(subframe, ours, appUrl)).toBe(false);
    expect(isTrustedSender({ sender: ours.webContents, senderFrame: null }, ours, appUrl)).toBe(false); // frame already gone
  });
});

/** Runs preload/index.cts as Electron would (compiled to CommonJS) against a stand-in for its `electron` import. */
function loadPreload() {
  const source = readFileSync(path.join(REPO_ROOT, 'preload', 'index.cts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const invoked: unknown[][] = [];
  let exposed: { name: string; api: { call: (method: unknown, request: unknown) => Promise<unknown>; chooseProject: (labels: unknown) => Promise<unknown> } } | undefined;
  const electron = {
    contextBridge: { exposeInMainWorld: (name: string, api: never) => (exposed = { name, api }) },
    ipcRenderer: {
      invoke: (...args: unknown[]) => {
        invoked.push(args);
        return Promise.resolve({ result: 'reached the main process' });
      },
      on: () => undefined,
      removeListener: () => undefined,
    },
  };
  const requireStandIn = (id: string) => {
    if (id !== 'electron') throw new Error(`the sandboxed preload may only require electron, not ${id}`);
    return electron;
  };
  const module = { exports: {} };
  new Function('require', 'module', 'exports', outputText)(requireStandIn, module, module.exports);
  if (!exposed) throw new Error('the preload exposed nothing');
  return { exposed, invoked };
}

describe('the preload', () => {
  it('forwards exactly RENDERER_METHODS over the call channel and refuses everything else without IPC', async () => {
    const { exposed, invoked } = loadPreload();
    expect(exposed.name).toBe('keizoku');
    const forwarded = new Set<string>();
    for (const method of [...API_METHODS, ...NOT_METHODS]) {
      const before = invoked.length;
      const answer = await exposed.api.call(method, {});
      if (invoked.length > before) {
        expect(invoked.at(-1)).toEqual([CALL_CHANNEL, String(method), {}]); // the main process only ever sees a string
        forwarded.add(String(method));
      } else {
        expect(answer, String(method)).toMatchObject({ error: { code: 'forbidden' } });
      }
    }
    expect([...forwarded].sort()).toEqual([...RENDERER_METHODS].sort());
  });
});

describe("the folder picker's titles (from the window, in its language)", () => {
  it('pass through the preload and, checked, into the dialog; anything odd falls back to English', async () => {
    const { exposed, invoked } = loadPreload();
    const japanese = { title: 'プロジェクトフォルダーを選択', cannotOpen: 'このフォルダーを開けません' };
    await exposed.api.chooseProject(japanese);
    expect(invoked.at(-1)).toEqual([CHOOSE_PROJECT_CHANNEL, japanese]);
    expect(chooseProjectLabels(japanese)).toEqual(japanese);
    for (const odd of [undefined, null, 'title', { title: 'x' }, { title: '', cannotOpen: 'y' }, { title: 'x'.repeat(201), cannotOpen: 'y' }, { title: 1, cannotOpen: 2 }]) {
      expect(chooseProjectLabels(odd), JSON.stringify(odd)).toEqual(ENGLISH_CHOOSE_PROJECT_LABELS);
    }
  });
});

/** Every `call('<method>'` in the renderer's source. */
function rendererCalls(): { methods: Set<string>; nonLiteral: string[] } {
  const dir = path.join(REPO_ROOT, 'renderer', 'src');
  const methods = new Set<string>();
  const nonLiteral: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!/\.(ts|svelte)$/.test(entry)) continue;
    const text = readFileSync(path.join(dir, entry), 'utf8');
    for (const match of text.matchAll(/\bcall\(\s*(['"`])?(\w*)/g)) {
      if (match[1]) methods.add(match[2]!);
      // bridge.ts defines call and forwards its argument; anywhere else a computed name would dodge this check
      else if (entry !== path.join('lib', 'bridge.ts')) nonLiteral.push(`${entry}: ${match[0]}`);
    }
  }
  return { methods, nonLiteral };
}

describe('RENDERER_METHODS', () => {
  it('is exactly the set of methods the renderer calls, each named literally', () => {
    const { methods, nonLiteral } = rendererCalls();
    expect(nonLiteral).toEqual([]);
    expect([...methods].sort()).toEqual([...RENDERER_METHODS].sort());
    expect(new Set(RENDERER_METHODS).size).toBe(RENDERER_METHODS.length);
  });
});
