// Teachable Machine's published library (@teachablemachine/image 0.8.5 on @tensorflow/tfjs 1.3.1,
// both devDependencies, loaded from their dist/ builds in node_modules) driven in Debian's
// Chromium through playwright-core, the way its web app trains: createTeachable (MobileNetV2
// α=0.35 truncated at out_relu + global average pooling), addExample for every photo (cropped to
// a 224×224 canvas first, as the web app does on upload), train() with the web app's defaults.
//
// Every request of the page is answered by route handlers on a made-up origin; the base model
// URL the library hard-codes (storage.googleapis.com) is answered with the truncated base taken
// out of the shared Teachable Machine export; anything else is aborted and counted.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';

const require = createRequire(import.meta.url);

export const TM_PACKAGE = '@teachablemachine/image';
export const TF_PACKAGE = '@tensorflow/tfjs';
const ORIGIN = 'http://peer.invalid';
/** The URL createTeachable(…, { version: 2, alpha: 0.35 }) loads (custom-mobilenet.ts parseModelOptions). */
const BASE_URL = 'https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top/model.json';

/** The web app's training defaults (and the values the issue names). */
export interface TmParams {
  denseUnits: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
}
export const TM_PARAMS: Readonly<TmParams> = { denseUnits: 100, epochs: 50, learningRate: 0.001, batchSize: 16 };

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
}

interface ExportModel {
  modelTopology: {
    keras_version: string;
    backend: string;
    config: { layers: Array<{ class_name: string; config: { name: string; layers: Array<{ class_name: string; config: unknown }> } }> };
  };
  weightsManifest: Array<{ paths: string[]; weights: ManifestWeight[] }>;
}

/**
 * The base alone from a Teachable Machine image export: the export is Sequential[sequential_5
 * (Model model2: input → out_relu, then GlobalAveragePooling2D), sequential_7 (the dense head)];
 * model2 is the truncated MobileNetV2 the library loads. Returns its model.json (functional
 * topology) and a weights file with only its weights, in manifest order.
 */
export function tmBaseModel(exportDir: string): { modelJson: string; weights: Buffer; weightCount: number } {
  const exported = JSON.parse(readFileSync(path.join(exportDir, 'model.json'), 'utf8')) as ExportModel;
  const bin = readFileSync(path.join(exportDir, exported.weightsManifest[0]!.paths[0]!));
  const base = exported.modelTopology.config.layers[0]!.config.layers.find((layer) => layer.class_name === 'Model');
  if (!base) throw new Error('the Teachable Machine export has no inner Model (the truncated base)');
  const headNames = new Set(exported.modelTopology.config.layers.slice(1).flatMap((seq) => seq.config.layers.map((l) => (l.config as { name: string }).name)));
  const kept: ManifestWeight[] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  for (const weight of exported.weightsManifest.flatMap((group) => group.weights)) {
    if (weight.dtype !== 'float32') throw new Error(`unexpected weight dtype ${weight.dtype}`);
    const bytes = 4 * weight.shape.reduce((a, b) => a * b, 1);
    const layerName = weight.name.slice(0, weight.name.lastIndexOf('/'));
    if (!headNames.has(layerName)) {
      kept.push(weight);
      parts.push(bin.subarray(offset, offset + bytes));
    }
    offset += bytes;
  }
  if (offset !== bin.length) throw new Error(`the export's manifest covers ${offset} bytes of ${bin.length}`);
  const modelJson = JSON.stringify({
    modelTopology: { class_name: 'Model', config: base.config, keras_version: exported.modelTopology.keras_version, backend: exported.modelTopology.backend },
    weightsManifest: [{ paths: ['base.weights.bin'], weights: kept }],
  });
  return { modelJson, weights: Buffer.concat(parts), weightCount: kept.length };
}

function distFile(pkg: string, file: string): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
}

export function packageVersion(pkg: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
}

// The page: the two UMD builds, and a small driver. cropTo is the library's own
// (src/utils/canvas.ts, not exported by its bundle), copied verbatim in behaviour.
const PAGE_SCRIPT = String.raw`
const photos = new Map();
function cropTo(image, size) {
  const width = image.width, height = image.height;
  const min = Math.min(width, height);
  const scale = size / min;
  const scaledW = Math.ceil(width * scale);
  const scaledH = Math.ceil(height * scale);
  const dx = scaledW - size;
  const dy = scaledH - size;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  canvas.getContext('2d').drawImage(image, ~~(dx / 2) * -1, ~~(dy / 2) * -1, scaledW, scaledH);
  return canvas;
}
async function decode(key) {
  const url = URL.createObjectURL(photos.get(key));
  const img = new Image();
  img.src = url;
  await img.decode();
  URL.revokeObjectURL(url);
  return img;
}
let current = null;
window.peer = {
  async setBackend(name) { if (name) await tf.setBackend(name); await tf.ready(); return tf.getBackend(); },
  info() {
    let renderer = 'no WebGL';
    const gl = document.createElement('canvas').getContext('webgl');
    if (gl) {
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    }
    return { tfjs: tf.version.tfjs, tmImage: tmImage.version, backend: tf.getBackend(), userAgent: navigator.userAgent, webgl: renderer };
  },
  async loadPhotos(keys) {
    for (const key of keys) photos.set(key, await (await fetch('/photos/' + key)).blob());
    return photos.size;
  },
  async train(labels, filesPerClass, params) {
    if (current) { current.dispose(); current = null; }
    const t0 = performance.now();
    const model = await tmImage.createTeachable({ tfjsVersion: tf.version.tfjs }, { version: 2, alpha: 0.35 });
    model.setLabels(labels);
    const tLoaded = performance.now();
    let decodeMs = 0, examples = 0;
    for (let c = 0; c < filesPerClass.length; c++) {
      for (const key of filesPerClass[c]) {
        const s = performance.now();
        const canvas = cropTo(await decode(key), 224);
        decodeMs += performance.now() - s;
        await model.addExample(c, canvas);
        examples++;
      }
    }
    const tEmbedded = performance.now();
    let epochs = 0;
    await model.train(params, { onEpochEnd: async () => { epochs++; } });
    const tTrained = performance.now();
    current = model;
    return { loadMs: tLoaded - t0, embedMs: tEmbedded - tLoaded, decodeMs, examples, trainMs: tTrained - tEmbedded, totalMs: tTrained - t0, epochs, backend: tf.getBackend(), tensors: tf.memory().numTensors };
  },
  async predict(keys) {
    const out = [];
    for (const key of keys) {
      const probs = await current.predict(await decode(key));
      let best = 0;
      for (let i = 1; i < probs.length; i++) if (probs[i].probability > probs[best].probability) best = i;
      out.push(probs[best].className);
    }
    return out;
  },
  // The served base against the full export's own base (its first layer), on the same crops.
  async checkBase(keys) {
    const exported = await tf.loadLayersModel('/export/model.json');
    const base = exported.layers[0];
    const truncated = current.truncatedModel;
    let maxAbs = 0, maxRef = 0;
    for (const key of keys) {
      const canvas = cropTo(await decode(key), 224);
      const x = tf.tidy(() => tf.browser.fromPixels(canvas).expandDims(0).toFloat().div(tf.scalar(127)).sub(tf.scalar(1)));
      const a = truncated.predict(x).dataSync(), b = base.predict(x).dataSync();
      for (let i = 0; i < a.length; i++) { maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i])); maxRef = Math.max(maxRef, Math.abs(b[i])); }
      x.dispose();
    }
    exported.dispose();
    return { maxAbs, maxRef, images: keys.length };
  },
};
`;

/** Resident memory of every process below `rootPid` (Chromium's browser, GPU, renderer, utility processes), from /proc:
 * the sum of their RSS (shared pages counted in each) and, when asked, of their PSS (shared pages split between them). */
export function descendantRss(rootPid: number, withPss = false): { rss: number; pss: number; processes: number } {
  const parent = new Map<number, number>();
  const rssPages = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(fields[1]));
      rssPages.set(Number(entry), Number(fields[21]));
    } catch {
      // the process ended meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === rootPid) return true;
    return false;
  };
  let pages = 0;
  let pss = 0;
  let processes = 0;
  for (const [pid, n] of rssPages) {
    if (inTree(pid)) {
      pages += n;
      processes++;
      if (withPss) {
        try {
          const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
          if (match) pss += Number(match[1]) * 1024;
        } catch {
          // ended meanwhile
        }
      }
    }
  }
  return { rss: pages * 4096, pss, processes };
}

export interface TmStep {
  loadMs: number;
  embedMs: number;
  decodeMs: number;
  examples: number;
  trainMs: number;
  totalMs: number;
  epochs: number;
  backend: string;
}

export interface TmPeerOptions {
  browser: Browser;
  exportDir: string;
  photoDir: string;
  /** tf.setBackend before anything (undefined: the library's own choice). */
  backend: string | undefined;
  log: (message: string) => void;
}

/** One page with the two libraries loaded and every request answered locally. */
export async function openTmPage(options: TmPeerOptions): Promise<{ page: Page; blocked: string[]; served: { base: number } }> {
  const base = tmBaseModel(options.exportDir);
  const files: Record<string, { body: Buffer | string; type: string }> = {
    '/index.html': { body: '<!doctype html><meta charset="utf-8"><title>peer</title><script src="/tf.min.js"></script><script src="/tm.min.js"></script>', type: 'text/html' },
    '/tf.min.js': { body: readFileSync(distFile(TF_PACKAGE, 'dist/tf.min.js')), type: 'text/javascript' },
    '/tm.min.js': { body: readFileSync(distFile(TM_PACKAGE, 'dist/teachablemachine-image.min.js')), type: 'text/javascript' },
    '/export/model.json': { body: readFileSync(path.join(options.exportDir, 'model.json')), type: 'application/json' },
    '/export/weights.bin': { body: readFileSync(path.join(options.exportDir, 'weights.bin')), type: 'application/octet-stream' },
  };
  const blocked: string[] = [];
  const served = { base: 0 };
  const page = await options.browser.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') options.log(`page ${message.type()}: ${message.text()}`);
  });
  await page.route('**/*', async (route: Route) => {
    const url = new URL(route.request().url());
    const baseDir = BASE_URL.slice(0, BASE_URL.lastIndexOf('/') + 1);
    if (url.href === BASE_URL) {
      served.base++;
      return route.fulfill({ status: 200, contentType: 'application/json', body: base.modelJson });
    }
    if (url.href === `${baseDir}base.weights.bin`) return route.fulfill({ status: 200, contentType: 'application/octet-stream', body: base.weights });
    if (url.origin === ORIGIN) {
      const file = files[url.pathname];
      if (file) return route.fulfill({ status: 200, contentType: file.type, body: file.body });
      if (url.pathname.startsWith('/photos/')) {
        const rel = decodeURIComponent(url.pathname.slice('/photos/'.length));
        if (!rel.split('/').includes('..')) return route.fulfill({ status: 200, contentType: 'image/jpeg', body: readFileSync(path.join(options.photoDir, rel)) });
      }
    }
    blocked.push(url.href);
    return route.abort();
  });
  await page.goto(`${ORIGIN}/index.html`);
  await page.addScriptTag({ content: PAGE_SCRIPT });
  return { page, blocked, served };
}

export async function tmSetBackend(page: Page, backend: string | undefined): Promise<string> {
  return page.evaluate((name) => (globalThis as unknown as { peer: { setBackend(n: string | undefined): Promise<string> } }).peer.setBackend(name), backend);
}

export async function tmInfo(page: Page): Promise<{ tfjs: string; tmImage: string; backend: string; userAgent: string; webgl: string }> {
  return page.evaluate(() => (globalThis as unknown as { peer: { info(): never } }).peer.info());
}

/** Fetches the photos into the page as Blobs (the web app holds the user's uploads in memory), untimed. */
export async function tmLoadPhotos(page: Page, keys: readonly string[]): Promise<number> {
  return page.evaluate((k) => (globalThis as unknown as { peer: { loadPhotos(k: string[]): Promise<number> } }).peer.loadPhotos(k), [...keys]);
}

/** A new model from scratch on these classes (createTeachable + addExample for every photo + train), as the web app's Train button does. */
export async function tmTrain(page: Page, labels: readonly string[], filesPerClass: readonly (readonly string[])[], params: Readonly<TmParams> = TM_PARAMS): Promise<TmStep> {
  return page.evaluate(
    ([l, f, p]) => (globalThis as unknown as { peer: { train(l: unknown, f: unknown, p: unknown): Promise<TmStep> } }).peer.train(l, f, p),
    [labels, filesPerClass, params] as const,
  );
}

export async function tmPredict(page: Page, keys: readonly string[]): Promise<string[]> {
  return page.evaluate((k) => (globalThis as unknown as { peer: { predict(k: string[]): Promise<string[]> } }).peer.predict(k), [...keys]);
}

export async function tmCheckBase(page: Page, keys: readonly string[]): Promise<{ maxAbs: number; maxRef: number; images: number }> {
  return page.evaluate((k) => (globalThis as unknown as { peer: { checkBase(k: string[]): Promise<never> } }).peer.checkBase(k), [...keys]);
}
