// Section `live`: the predictions per second Try it's live camera achieves in Chromium (fake
// camera) against `keizoku serve`, beside the engine's own single-frame predict calls per
// second on frames of the same camera, measured in the same run.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Project } from '../main/engine/project/project.js';
import { runPredict } from '../main/engine/use-cases/predict.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { WarmPredictor } from '../main/engine/use-cases/warm-predictor.js';
import { CALTECH, listClasses } from './datasets.js';
import { fixed, ratio } from './markdown.js';
import { MODEL_MIRROR_DIR, REPO_ROOT } from './paths.js';
import type { BenchContext, SectionOutput } from './section.js';

const CHROMIUM = process.env.KEIZOKU_CHROMIUM ?? '/usr/bin/chromium';
const CLASSES = 10;
const PER_CLASS = 15;
const FRAMES = 40;
const MEASURE_MS = 20_000;
/** The live view's frame size and quality (renderer/src/components/LiveCamera.svelte). */
const LIVE_MAX_SIDE = 480;
const LIVE_QUALITY = 0.85;

interface LiveRun {
  asked: number;
  achieved: number;
  answered: number;
  seconds: number;
}

async function startServe(root: string, cacheDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'keizoku.js'), 'serve', '--root', root, '--port', '0'], {
    env: { ...process.env, KEIZOKU_MODEL_DIR: MODEL_MIRROR_DIR, KEIZOKU_CACHE_DIR: cacheDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /at (http:\/\/\S+)/.exec(out);
      if (match) {
        clearInterval(timer);
        resolve(match[1]!);
      }
    }, 100);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`serve exited early: ${err}`));
    });
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function liveBench(context: BenchContext): Promise<SectionOutput> {
  const area = mkdtempSync(path.join(os.tmpdir(), 'keizoku-bench-live-'));
  const root = path.join(area, 'project');
  const framesDir = path.join(area, 'frames');
  try {
    const classes = listClasses(CALTECH.dir, 'train').slice(0, CLASSES);
    mkdirSync(root);
    mkdirSync(framesDir);
    for (const name of classes) {
      mkdirSync(path.join(root, name));
      for (const file of readdirSync(path.join(CALTECH.dir, 'train', name)).sort().slice(0, PER_CLASS)) {
        cpSync(path.join(CALTECH.dir, 'train', name, file), path.join(root, name, file));
      }
    }
    context.log(`learning ${classes.length} classes × ${PER_CLASS} photos`);
    const learning = Project.open({ root, modelDir: MODEL_MIRROR_DIR, cacheDir: context.cacheDir, allowDownload: false, device: 'cpu' });
    try {
      await runUpdate(learning);
    } finally {
      learning.close();
    }

    const server = await startServe(root, context.cacheDir);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
    });
    const runs: LiveRun[] = [];
    let browserVersion = '';
    try {
      browserVersion = browser.version();
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Try it' }).click();
      await page.getByRole('button', { name: 'Start camera' }).click();
      const answered = () => page.locator('[data-answered]').getAttribute('data-answered').then(Number);
      await page.locator('[data-answered]').waitFor({ timeout: 120_000 });
      for (let waited = 0; (await answered()) < 3 && waited < 600; waited++) await page.waitForTimeout(200);

      // Frames of the same camera at the live view's size, for the engine's own figure.
      // (A string, as this file is compiled without the DOM's types.)
      const frames = (await page.evaluate(`(async () => {
        const video = document.querySelector('video');
        const canvas = document.createElement('canvas');
        const out = [];
        for (let i = 0; i < ${FRAMES}; i++) {
          const scale = Math.min(1, ${LIVE_MAX_SIDE} / Math.max(video.videoWidth, video.videoHeight));
          canvas.width = Math.round(video.videoWidth * scale);
          canvas.height = Math.round(video.videoHeight * scale);
          canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
          out.push(canvas.toDataURL('image/jpeg', ${LIVE_QUALITY}).split(',')[1]);
          await new Promise((resolve) => setTimeout(resolve, 60));
        }
        return out;
      })()`)) as string[];
      frames.forEach((data, index) => writeFileSync(path.join(framesDir, `frame-${String(index).padStart(3, '0')}.jpg`), Buffer.from(data, 'base64')));

      const rateInput = page.getByLabel('Predictions per second to ask for (1–30)');
      for (const asked of [10, 30]) {
        await rateInput.fill(String(asked));
        await rateInput.press('Tab');
        await page.waitForTimeout(2000); // settle at the new pace
        const before = await answered();
        const t0 = performance.now();
        await page.waitForTimeout(MEASURE_MS);
        const count = (await answered()) - before;
        const seconds = (performance.now() - t0) / 1000;
        runs.push({ asked, answered: count, seconds, achieved: count / seconds });
        context.log(`asked ${asked}/s, achieved ${(count / seconds).toFixed(2)}/s`);
      }
      await page.getByRole('button', { name: 'Stop camera' }).click();
    } finally {
      await browser.close();
      await server.stop();
    }

    // Reference: the engine's own predictions on the same camera's frames, one frame per call
    // (as each live request is), in-process: without the browser, HTTP, base64 and worker thread.
    // Warm (the model and session kept open, as the app does) is the reference; cold
    // (`runPredict`, as the CLI does: a session per call) is shown beside it.
    const files = readdirSync(framesDir).sort().map((name) => path.join(framesDir, name));
    const half = Math.floor(files.length / 2);
    const callsPerSecond = async (label: string, predict: (project: Project, file: string) => Promise<unknown>, frames: string[]) => {
      const project = Project.open({ root, modelDir: MODEL_MIRROR_DIR, cacheDir: context.cacheDir, allowDownload: false, device: 'cpu' });
      try {
        await predict(project, frames[0]!); // warm-up, not counted
        const timed = frames.slice(1);
        const t0 = performance.now();
        for (const file of timed) await predict(project, file);
        const ms = performance.now() - t0;
        context.log(`${label} ${((timed.length * 1000) / ms).toFixed(2)} calls/s`);
        return { rate: (timed.length * 1000) / ms, msPerCall: ms / timed.length };
      } finally {
        project.close();
      }
    };
    // Each frame is predicted once (the embedding cache would answer a repeat): half warm, half cold.
    const predictor = new WarmPredictor();
    const warm = await callsPerSecond('engine warm', (project, file) => predictor.predict(project, [file], { top: 3, keepEmbeddings: false }), files.slice(0, half));
    await predictor.close();
    const cold = await callsPerSecond('engine cold', (project, file) => runPredict(project, [file], 3), files.slice(half));
    const engineRate = warm.rate;

    const rows = [
      ['**reference**: engine, model and session kept open (`WarmPredictor`, as the app), in-process', '–', fixed(warm.rate, 2), '1.00×', fixed(warm.msPerCall, 0)],
      ['engine `runPredict` with a session per call (as the CLI), in-process', '–', fixed(cold.rate, 2), ratio(cold.rate, engineRate), fixed(cold.msPerCall, 0)],
      ...runs.map((run) => [
        `Try it live camera in Chromium → \`keizoku serve\`, ${run.asked}/s asked`,
        String(run.asked),
        fixed(run.achieved, 2),
        ratio(run.achieved, engineRate),
        fixed(1000 / Math.max(run.achieved, 1e-9), 0),
      ]),
    ];
    return {
      title: 'Live camera predictions per second',
      method:
        `A project of ${classes.length} Caltech-101 classes × ${PER_CLASS} train photos, learned once (default learner, cpu). ` +
        `\`keizoku serve\` runs on it and Debian's Chromium (headless, \`--use-fake-device-for-media-stream\`) opens Try it → Start camera; ` +
        `the live view grabs the fake camera's frame (${LIVE_MAX_SIDE} px, JPEG ${LIVE_QUALITY}), sends it to \`predictImages\` (top 3) and drops frames while ` +
        `a request is in flight. Achieved = predictions answered over ${MEASURE_MS / 1000} s after 2 s of settling, at 10/s (the default) and at 30/s asked. ` +
        `Reference: the engine's predictions in-process on ${FRAMES} frames grabbed from the same camera at the same size, one frame per call, each frame once ` +
        `(half with the model and session kept open as the app does, half with \`runPredict\` opening a session per call as the CLI does), after the browser closed; ` +
        `ms/answer is 1000 ÷ rate.`,
      tables: [
        {
          caption: 'Predictions per second; ratio = achieved ÷ the engine\'s own calls/s',
          headers: ['path', 'asked /s', 'achieved /s', '÷ engine', 'ms / answer'],
          align: ['l', 'r', 'r', 'r', 'r'],
          rows,
          reading: [
            `The live view answered ${fixed(runs.at(-1)?.achieved, 1)} predictions/s when asked for 30 (${ratio(runs.at(-1)?.achieved, engineRate)} the engine's own rate of ${fixed(engineRate, 1)}/s on the same frames); ` +
              `the gap is the browser's frame grab and JPEG encode, base64, HTTP, the engine worker and opening the project per request, ` +
              `and Chromium itself (drawing the fake camera, encoding frames) sharing the cores during the live rows but not during the reference. ` +
              `Asking for more than the engine can answer costs nothing: frames are skipped while a request is in flight.`,
          ],
        },
      ],
      data: { runs, warm, cold, frames: FRAMES, browserVersion, classes: classes.length, perClass: PER_CLASS },
    };
  } finally {
    rmSync(area, { recursive: true, force: true });
  }
}

