import { createServer } from 'node:http';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCatalogEntry, loadCatalog, type CatalogEntry } from '../main/engine/backbones/catalog.js';
import { ChecksumMismatchError, ModelUnavailableError, obtainModelFile } from '../main/engine/backbones/model-files.js';
import { resolveBackbone } from '../main/engine/backbones/resolve.js';
import { CORAL_DIR, REFERENCE_ONNX } from './support/paths.js';

const temp = () => mkdtempSync(path.join(os.tmpdir(), 'keizoku-models-'));
const tiny = () => findCatalogEntry('mobilenet-v1-0.25-128-quant')!;

describe('backbone catalog', () => {
  it('lists the three Coral backbones with their published checksums, the default first-class', () => {
    const catalog = loadCatalog();
    expect(catalog.default).toBe('mobilenet-v2-1.0-224-quant-int8');
    const byId = Object.fromEntries(catalog.backbones.map((entry) => [entry.id, entry]));
    expect(byId['mobilenet-v2-1.0-224-quant']?.sha256).toBe('7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776');
    expect(byId['mobilenet-v2-1.0-224-quant']?.url).toBe(
      'https://raw.githubusercontent.com/google-coral/test_data/104342d2d3480b3e66203073dac24f4e2dbb4c41/mobilenet_v2_1.0_224_quant.tflite',
    );
    // The taps entry is the default's file with a richer feature output, not another download.
    expect(byId['mobilenet-v2-1.0-224-quant-taps']?.sha256).toBe(byId['mobilenet-v2-1.0-224-quant']?.sha256);
    for (const entry of catalog.backbones) {
      // the shared mirror holds exactly the published bytes
      expect(readFileSync(path.join(CORAL_DIR, entry.fileName)).length).toBe(entry.bytes);
    }
  });
});

describe('obtaining backbone files', () => {
  let server: ReturnType<typeof createServer>;
  let baseUrl = '';
  const served = new Map<string, Buffer>();
  beforeAll(async () => {
    server = createServer((request, response) => {
      const body = served.get(request.url ?? '');
      if (!body) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('takes a verified copy from the mirror, then from the cache', async () => {
    const cacheDir = temp();
    const first = await obtainModelFile(tiny(), { cacheDir, mirrorDir: CORAL_DIR, allowDownload: false });
    expect(first.origin).toBe('mirror');
    const second = await obtainModelFile(tiny(), { cacheDir, allowDownload: false });
    expect(second).toEqual({ path: first.path, origin: 'cache' });
  });

  it('refuses a mirror file whose checksum is wrong, and keeps nothing of it', async () => {
    const cacheDir = temp();
    const mirror = temp();
    const bytes = readFileSync(path.join(CORAL_DIR, tiny().fileName));
    bytes.writeUInt8(bytes.readUInt8(1000) ^ 0xff, 1000);
    writeFileSync(path.join(mirror, tiny().fileName), bytes);
    await expect(obtainModelFile(tiny(), { cacheDir, mirrorDir: mirror, allowDownload: false })).rejects.toThrow(ChecksumMismatchError);
    expect(existsSync(path.join(cacheDir, 'models', tiny().fileName))).toBe(false);
  });

  it('re-verifies the cache: a corrupted cached copy is replaced, never used', async () => {
    const cacheDir = temp();
    const { path: cached } = await obtainModelFile(tiny(), { cacheDir, mirrorDir: CORAL_DIR });
    writeFileSync(cached, 'garbage');
    const again = await obtainModelFile(tiny(), { cacheDir, mirrorDir: CORAL_DIR });
    expect(again.origin).toBe('mirror');
  });

  it('downloads from the pinned URL with progress and checks the checksum', async () => {
    const bytes = readFileSync(path.join(CORAL_DIR, tiny().fileName));
    served.set('/good.tflite', bytes);
    const corrupted = Buffer.from(bytes);
    corrupted.writeUInt8(corrupted.readUInt8(5000) ^ 1, 5000);
    served.set('/bad.tflite', corrupted);
    const progress: number[] = [];
    const good: CatalogEntry = { ...tiny(), url: `${baseUrl}/good.tflite` };
    const result = await obtainModelFile(good, { cacheDir: temp(), onProgress: (received) => progress.push(received) });
    expect(result.origin).toBe('download');
    expect(progress.at(-1)).toBe(bytes.length);

    const bad: CatalogEntry = { ...tiny(), url: `${baseUrl}/bad.tflite` };
    await expect(obtainModelFile(bad, { cacheDir: temp() })).rejects.toThrow(/does not match/);
    const missing: CatalogEntry = { ...tiny(), url: `${baseUrl}/missing.tflite` };
    await expect(obtainModelFile(missing, { cacheDir: temp() })).rejects.toThrow(ModelUnavailableError);
  });

  it('says what to do when the file is nowhere and downloads are off', async () => {
    await expect(obtainModelFile(tiny(), { cacheDir: temp(), mirrorDir: temp(), allowDownload: false })).rejects.toThrow(/--model-dir|downloads are off/);
  });
});

describe('resolving a backbone', () => {
  it('imports a catalog TFLite once and reuses the cached conversion', async () => {
    const cacheDir = temp();
    const first = await resolveBackbone('mobilenet-v1-0.25-128-quant', { cacheDir, mirrorDir: CORAL_DIR });
    expect(first).toMatchObject({ key: 'mobilenet-v1-0.25-128-quant', featureDim: 256, inputName: 'input', featuresName: 'features' });
    expect(first.preprocessing).toEqual({ height: 128, width: 128, mean: [128, 128, 128], std: [128, 128, 128] });
    const mtime = statSync(first.onnxPath).mtimeMs;
    const second = await resolveBackbone('mobilenet-v1-0.25-128-quant', { cacheDir, mirrorDir: CORAL_DIR });
    expect(statSync(second.onnxPath).mtimeMs).toBe(mtime);
  });

  it('takes a user ONNX file, finding its feature output by name', async () => {
    const dir = temp();
    const file = path.join(dir, 'reference.onnx');
    copyFileSync(REFERENCE_ONNX, file);
    const resolved = await resolveBackbone(file, { cacheDir: dir, mean: [128, 128, 128], std: [128, 128, 128] });
    expect(resolved).toMatchObject({ featuresName: 'features', featureDim: 1280, inputName: 'input', origin: 'file' });
    expect(resolved.key).toMatch(/^onnx-[0-9a-f]{16}$/);
    await expect(resolveBackbone(file, { cacheDir: dir, featureOutput: 'nope' })).rejects.toThrow(/which output holds the features/);
  });

  it('names the catalog when the id is unknown', async () => {
    await expect(resolveBackbone('resnet-9000', { cacheDir: temp() })).rejects.toThrow(/mobilenet-v2-1.0-224-quant/);
  });
});
