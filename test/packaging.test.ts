// Everything before electron-builder's Electron download, checked here since the download
// itself cannot happen offline: the builder config, the bundled default backbone, and the
// built files the installers are made of.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../main/engine/backbones/catalog.js';
import { CORAL_DIR, REPO_ROOT } from './support/paths.js';
import { tempDir } from './support/project.js';

interface BuilderConfig {
  files: string[];
  extraResources: Array<{ from: string; to: string }>;
  npmRebuild: boolean;
  beforePack: string;
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[] };
}

describe('packaging', () => {
  const config = load(readFileSync(path.join(REPO_ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

  it('targets AppImage, deb, NSIS and dmg, rebuilds native modules and ships the models folder', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.npmRebuild).toBe(true);
    expect(config.extraResources).toContainEqual(expect.objectContaining({ from: 'build/models', to: 'models' }));
    expect(existsSync(path.join(REPO_ROOT, config.beforePack))).toBe(true);
  });

  it('has built every file the installers include: main, a CommonJS preload for the sandbox, the renderer', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { main: string };
    expect(existsSync(path.join(REPO_ROOT, manifest.main))).toBe(true);
    const preload = readFileSync(path.join(REPO_ROOT, 'dist', 'preload', 'index.cjs'), 'utf8');
    expect(preload).toContain('require("electron")');
    expect(preload).not.toMatch(/^import /m);
    const index = readFileSync(path.join(REPO_ROOT, 'dist', 'renderer', 'index.html'), 'utf8');
    expect(index).toContain('Content-Security-Policy');
    expect(index).not.toMatch(/<script>(?!<\/script>)/); // no inline scripts: the CSP forbids them
    expect(existsSync(path.join(REPO_ROOT, 'dist', 'main', 'engine', 'host', 'engine-worker.js'))).toBe(true);
    for (const pattern of config.files.filter((entry) => !entry.startsWith('!'))) {
      expect(existsSync(path.join(REPO_ROOT, pattern.replace(/\/\*\*$/, ''))), pattern).toBe(true);
    }
  });

  it('bundles the default backbone with a verified checksum', () => {
    const out = tempDir();
    const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'bundle-default-backbone.mjs'), out], {
      encoding: 'utf8',
      env: { ...process.env, KEIZOKU_MODEL_DIR: CORAL_DIR, KEIZOKU_CACHE_DIR: tempDir() },
    });
    expect(run.status, run.stderr).toBe(0);
    const catalog = loadCatalog();
    const entry = catalog.backbones.find((candidate) => candidate.id === catalog.default)!;
    const bundled = readFileSync(path.join(out, entry.fileName));
    expect(createHash('sha256').update(bundled).digest('hex')).toBe(entry.sha256);
  });

  it('npm start explains itself when the Electron binary is missing', () => {
    const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'start-desktop.mjs')], {
      encoding: 'utf8',
      // an override that points nowhere stands for "no binary" on machines that do have one
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: path.join(tempDir(), 'no-electron-here') },
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/npm run serve/);
  });
});
