// Which catalog backbone a project that names none gets. The catalog's default is the int8
// import, the faster one on a CPU (docs/benchmarks.md, int8); GPU providers have no integer
// kernels for it, so a project whose backbone would run on a GPU gets its float twin instead.
// Decided once, before the project's first version, and then saved with its settings: a
// project's embeddings and versions all come from one backbone.
import { findCatalogEntry, loadCatalog } from './catalog.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { openSession, type DeviceChoice } from '../runtime/devices.js';

export interface DefaultBackbone {
  id: string;
  /** Why this one, for logs and the JSON of `backbones` */
  reason: string;
}

/** Whether `device` would run a session on a GPU provider here: an explicit GPU choice counts as
 * one (it is the user's intent; a missing driver falls back later, saying so); `auto` is
 * probed by opening a one-node graph on the platform's GPU provider. */
export type GpuProbe = (device: DeviceChoice) => Promise<boolean>;

export async function chooseDefaultBackbone(device: DeviceChoice, probe: GpuProbe = probeGpu): Promise<DefaultBackbone> {
  const catalog = loadCatalog();
  const entry = findCatalogEntry(catalog.default)!;
  if (!entry.floatTwin) return { id: entry.id, reason: 'the catalog default' };
  if (await probe(device)) return { id: entry.floatTwin, reason: `a GPU runs it (--device ${device}): the float graph` };
  return { id: entry.id, reason: 'the CPU runs it: the int8 graph' };
}

export async function probeGpu(device: DeviceChoice): Promise<boolean> {
  if (device === 'cpu') return false;
  if (device !== 'auto') return true;
  const graph = new GraphBuilder('keizoku_gpu_probe');
  const x = graph.addInput('x', 'float32', [1]);
  graph.addOutput(graph.addNode('Identity', [x], {}, { output: 'y' }), 'float32', [1]);
  try {
    const { session, report } = await openSession(graph.toBytes(), 'auto', { intraOp: 1, interOp: 1 });
    await session.release();
    return report.device !== 'cpu';
  } catch {
    return false;
  }
}
