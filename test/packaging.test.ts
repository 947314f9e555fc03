// Everything before electron-builder's Electron download, checked here since the download
// itself cannot happen offline: the builder config, the bundled default backbone, and the
// built files the installers are made of.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../main/engine/backbones/catalog.js';
import { CORAL_DIR, REPO_ROOT } from './support/paths.js';
import { tempDir } from './support/project.js';

interface BuilderConfig {
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  electronFuses: Record<string, boolean>;
  extraResources: Array<{ from: string; to: string }>;
  npmRebuild: boolean;
  beforePack: string;
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[] };
}

/** electron-builder's own modules, and the copies of its dependencies it will load, so the
 * checks below read what packaging will actually use rather than a copy of it. */
const builderRequire = createRequire(createRequire(path.join(REPO_ROOT, 'package.json')).resolve('app-builder-lib/package.json'));
const { FuseV1Options } = builderRequire('@electron/fuses') as { FuseV1Options: Record<string, number | string> };
const { minimatch } = builderRequire('minimatch') as { minimatch: (file: string, pattern: string, options: { dot: boolean }) => boolean };
const { PlatformPackager } = builderRequire('app-builder-lib') as {
  PlatformPackager: { prototype: { generateFuseConfig(fuses: Record<string, boolean>): Promise<Record<string | number, unknown>> } };
};
const { validateConfiguration } = builderRequire('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, debugLogger: { isEnabled: boolean }): Promise<void>;
};
const builderScheme = JSON.parse(readFileSync(builderRequire.resolve('app-builder-lib/scheme.json'), 'utf8')) as {
  definitions: { FuseOptionsV1: { properties: Record<string, unknown> } };
};

/** Native code the app loads: addons and the shared libraries they link. */
const NATIVE_BINARY = /\.(node|dylib|dll)$|\.so(\.\d+)*$/;

/** Every package the installers carry (package.json dependencies, transitively, as installed), by its folder. */
function productionPackages(): Map<string, string> {
  const found = new Map<string, string>();
  const resolve = (name: string, from: string): string | undefined => {
    for (let dir = from; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', name);
      if (existsSync(path.join(candidate, 'package.json'))) return candidate;
      if (dir === REPO_ROOT) return undefined;
    }
  };
  const visit = (dir: string) => {
    if (found.has(dir)) return;
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    found.set(dir, manifest.name);
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      const child = resolve(name, dir);
      if (!child) throw new Error(`${manifest.name} depends on ${name}, which is not installed`);
      visit(child);
    }
    for (const name of Object.keys(manifest.optionalDependencies ?? {})) {
      const child = resolve(name, dir); // other platforms' binaries are not installed here
      if (child) visit(child);
    }
  };
  visit(REPO_ROOT);
  found.delete(REPO_ROOT);
  return found;
}

/** Files of one package, without its nested node_modules (those are packages of their own). */
function packageFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : packageFiles(full);
    return entry.isFile() ? [full] : [];
  });
}

/** A path inside the app as electron-builder matches it: relative to the app folder, with forward slashes. */
const appPath = (file: string) => path.relative(REPO_ROOT, file).split(path.sep).join('/');

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

  it('is a configuration electron-builder itself accepts, and its validation catches a misspelled fuse', async () => {
    await expect(validateConfiguration(config, { isEnabled: false })).resolves.toBeUndefined();
    const misspelled = { ...config, electronFuses: { ...config.electronFuses, runAsNod: false } };
    await expect(validateConfiguration(misspelled, { isEnabled: false })).rejects.toThrow(/electronFuses/);
  });

  it('flips the fuses: no running as Node, no NODE_OPTIONS, no --inspect, encrypted cookies, the app only from a checked app.asar', async () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableCookieEncryption: true,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      resetAdHocDarwinSignature: true,
    });
    const known = Object.keys(builderScheme.definitions.FuseOptionsV1.properties);
    for (const key of Object.keys(config.electronFuses)) {
      expect(known, key).toContain(key);
      // each fuse key names a fuse of @electron/fuses (the one non-fuse option re-signs macOS builds)
      if (key !== 'resetAdHocDarwinSignature') expect(FuseV1Options, key).toHaveProperty(key[0]!.toUpperCase() + key.slice(1));
    }
    // electron-builder's own translation into the fuse wire @electron/fuses writes into the binary
    const wire = await PlatformPackager.prototype.generateFuseConfig.call({}, config.electronFuses);
    const fuse = (name: string) => wire[FuseV1Options[name] as number];
    expect(fuse('RunAsNode')).toBe(false);
    expect(fuse('EnableNodeOptionsEnvironmentVariable')).toBe(false);
    expect(fuse('EnableNodeCliInspectArguments')).toBe(false);
    expect(fuse('EnableCookieEncryption')).toBe(true);
    expect(fuse('EnableEmbeddedAsarIntegrityValidation')).toBe(true);
    expect(fuse('OnlyLoadAppFromAsar')).toBe(true);
    expect(wire.resetAdHocDarwinSignature).toBe(true);
  });

  it('packs the app into app.asar and unpacks every native binary the production dependencies carry, keeping the app code packed', () => {
    expect(config.asar).toBe(true);
    const unpacked = (file: string) => config.asarUnpack.some((pattern) => minimatch(file, pattern, { dot: true }));
    const binaries = [...productionPackages().keys()].flatMap(packageFiles).map(appPath).filter((file) => NATIVE_BINARY.test(file));
    // the walk must find the addons the engine loads, or it proves nothing
    expect(binaries).toContainEqual(expect.stringMatching(/^node_modules\/better-sqlite3\/.*better_sqlite3\.node$/));
    expect(binaries).toContainEqual(expect.stringMatching(/^node_modules\/onnxruntime-node\/bin\/.*onnxruntime_binding\.node$/));
    expect(binaries).toContainEqual(expect.stringMatching(/^node_modules\/@img\/sharp-[^/]+\/lib\/.*\.node$/));
    expect(binaries).toContainEqual(expect.stringMatching(/^node_modules\/@img\/sharp-[^/]+\/lib\/.*vips/));
    expect(binaries.filter((file) => !unpacked(file))).toEqual([]);
    // the app's own code stays inside the archive, where the integrity check covers it
    for (const file of ['package.json', 'dist/main/shell/main.js', 'dist/main/engine/host/engine-worker.js', 'dist/preload/index.cjs', 'node_modules/zod/package.json']) {
      expect(unpacked(file), file).toBe(false);
    }
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
