// Peak memory while something runs. RSS is sampled every 50 ms from a worker thread, because
// ONNX Runtime's session.run and the learners' linear algebra block the main thread (a timer
// there would miss exactly the peaks); RSS is per process, so the worker sees the whole of it.
// The JS heap belongs to the main isolate, so heapUsed is sampled on the main thread (between
// blocking stretches) and once more at the end.
import { Worker } from 'node:worker_threads';

const INTERVAL_MS = 50;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let peak = 0;
const sample = () => { const rss = process.memoryUsage.rss(); if (rss > peak) peak = rss; };
sample();
const timer = setInterval(sample, workerData.intervalMs);
parentPort.on('message', () => { sample(); clearInterval(timer); parentPort.postMessage(peak); parentPort.close(); });
`;

export interface MemoryPeak {
  peakRss: number;
  peakHeapUsed: number;
}

export async function measurePeakMemory<T>(fn: () => Promise<T>): Promise<{ result: T; memory: MemoryPeak }> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { intervalMs: INTERVAL_MS } });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });
  const peakRss = () =>
    new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage('stop');
    });
  let peakHeapUsed = process.memoryUsage().heapUsed;
  const heapTimer = setInterval(() => {
    peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed);
  }, INTERVAL_MS);
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    await worker.terminate();
    throw error;
  } finally {
    clearInterval(heapTimer);
  }
  peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed);
  const rss = await peakRss();
  await worker.terminate();
  return { result, memory: { peakRss: rss, peakHeapUsed } };
}
