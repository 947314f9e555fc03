// The desktop app's main process: one window, the engine in a worker thread, and nothing
// else. The renderer reaches the engine only through the preload's typed bridge.
import { app, BrowserWindow, dialog, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EngineClient } from '../engine/host/engine-client.js';
import { resolveSampleFile } from '../engine/project/project-paths.js';
import type { ChooseProjectLabels } from './dialog-labels.js';
import { hardenApp } from './hardening.js';
import { registerIpc } from './ipc-bridge.js';
import { EVENT_CHANNEL } from './ipc-channels.js';
import { isTrustedSender } from './ipc-policy.js';
import { ProjectMemory } from './project-memory.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const distDir = path.resolve(here, '..', '..');
const rendererIndex = path.join(distDir, 'renderer', 'index.html');
const rendererUrlPrefix = pathToFileURL(path.join(distDir, 'renderer')).href + '/';
const preloadScript = path.join(distDir, 'preload', 'index.cjs');
/** The default backbone ships with installers (electron-builder.yml extraResources), so the first launch works offline. */
const bundledModels = app.isPackaged ? path.join(process.resourcesPath, 'models') : undefined;

let window: BrowserWindow | undefined;
let engine: EngineClient | undefined;
let projectRoot: string | undefined;
const memory = new ProjectMemory(path.join(app.getPath('userData'), 'last-project.json'));

const isAppUrl = (url: string) => url.startsWith(rendererUrlPrefix);
hardenApp(isAppUrl);

if (!app.requestSingleInstanceLock()) app.quit();
app.on('second-instance', () => {
  if (window?.isMinimized()) window.restore();
  window?.focus();
});

async function openProject(root: string): Promise<void> {
  const previous = engine;
  engine = undefined;
  await previous?.close();
  const started = await EngineClient.start({ root, modelDir: bundledModels ?? process.env.KEIZOKU_MODEL_DIR });
  started.on('event', (event) => window?.webContents.send(EVENT_CHANNEL, event));
  engine = started;
  projectRoot = root;
  memory.remember(root);
}

async function chooseProject(labels: ChooseProjectLabels): Promise<string | null> {
  const options = {
    title: labels.title,
    properties: ['openDirectory', 'createDirectory'] as Array<'openDirectory' | 'createDirectory'>,
  };
  const choice = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  const root = choice.canceled ? undefined : choice.filePaths[0];
  if (!root) return null;
  try {
    await openProject(root);
    return root;
  } catch (error) {
    dialog.showErrorBox(labels.cannotOpen, error instanceof Error ? error.message : String(error));
    return null;
  }
}

/** Review's "Open": only a sample of the open project (resolveSampleFile refuses anything else), in the system's viewer. */
async function openSample(relPath: string): Promise<string> {
  if (!projectRoot) return 'no project open';
  try {
    return await shell.openPath(resolveSampleFile(projectRoot, relPath));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function rootFromArguments(): string | undefined {
  const index = process.argv.indexOf('--root');
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function start(): Promise<void> {
  await app.whenReady();
  registerIpc({ isTrustedSender: (event) => isTrustedSender(event, window, isAppUrl), engine: () => engine, chooseProject, openSample });
  const root = rootFromArguments() ?? memory.last();
  if (root) await openProject(path.resolve(root)).catch((error: unknown) => dialog.showErrorBox('Cannot open the project', String(error)));
  window = new BrowserWindow({
    width: 1320,
    height: 860,
    minWidth: 960,
    minHeight: 600,
    title: 'Keizoku',
    backgroundColor: '#f4f5f8',
    show: false,
    webPreferences: {
      preload: preloadScript,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window?.show());
  await window.loadFile(rendererIndex);
}

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !engine) return;
  // Stop the watcher and any update first: an update cancelled here leaves the previous version current.
  event.preventDefault();
  quitting = true;
  void engine.close().finally(() => app.quit());
});
app.on('window-all-closed', () => app.quit());

void start();
