import os from 'node:os';
import * as ort from 'onnxruntime-node';

export const DEVICE_CHOICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];
export type Device = Exclude<DeviceChoice, 'auto'>;

/** The provider that ran, and why it is that one (e.g. why a GPU was not used). */
export interface DeviceReport {
  requested: DeviceChoice;
  device: Device;
  fallbackReason?: string;
}

/**
 * GPU providers `auto` tries on each platform, best first. WebGPU is left out of `auto`:
 * on a box without a GPU driver Dawn may find a software Vulkan adapter, which runs
 * slower than ONNX Runtime's own CPU kernels; ask for it with --device webgpu.
 */
function autoCandidates(): Device[] {
  switch (process.platform) {
    case 'linux':
      return ['cuda'];
    case 'win32':
      return ['dml'];
    case 'darwin':
      return ['coreml'];
    default:
      return [];
  }
}

export interface SessionThreads {
  intraOp: number;
  interOp: number;
}

/**
 * ONNX Runtime's default pool spins one thread per logical core and busy-waits; on small
 * machines that fights decoding for the same cores. One inter-op thread (the graphs are
 * sequential chains), intra-op = the cores we may use (KEIZOKU_THREADS overrides), and no
 * spinning (see create()).
 */
export function defaultThreads(): SessionThreads {
  const fromEnv = Number(process.env.KEIZOKU_THREADS);
  const cores = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : os.availableParallelism();
  return { intraOp: Math.max(1, cores), interOp: 1 };
}

function providerOptions(device: Device): ort.InferenceSession.SessionOptions['executionProviders'] {
  switch (device) {
    case 'cpu':
      return ['cpu'];
    case 'cuda':
      return [{ name: 'cuda' }, 'cpu'];
    case 'dml':
      return [{ name: 'dml' }, 'cpu'];
    case 'coreml':
      return [{ name: 'coreml' }, 'cpu'];
    case 'webgpu':
      return [{ name: 'webgpu' }, 'cpu'];
  }
}

/** What kind of graph the session runs: 'int8' is a quantized (QDQ) graph; see openSession. */
export type GraphPrecision = 'float' | 'int8';

export interface OpenedSession {
  session: ort.InferenceSession;
  report: DeviceReport;
}

/**
 * Creates a session on the requested device. `auto` tries the platform's GPU provider and
 * falls back to CPU with the reason; an explicit GPU device that fails also falls back,
 * saying so, so that a script asking for CUDA on a laptop still gets an answer.
 *
 * An int8 graph always runs on the CPU provider. Its speed comes from the CPU provider's
 * integer kernels (QLinearConv & co., fused from the graph's QuantizeLinear/DequantizeLinear
 * pairs); the GPU providers here have no such kernels for it and would run the same graph as
 * dequantize + float kernels + requantize, slower than the float graph and still with int8's
 * rounding. Swapping in the float graph on a GPU is not an option at this point: its features
 * differ (slightly) from the int8 graph's, and the embedding cache holds the int8 backbone's
 * features under its own key. So the choice is made with the backbone: the float backbones for a
 * GPU, the int8 variant for the CPU, and an int8 backbone asked to run on a GPU says why it did not.
 */
export async function openSession(
  model: string | Uint8Array,
  requested: DeviceChoice,
  threads: SessionThreads = defaultThreads(),
  precision: GraphPrecision = 'float',
): Promise<OpenedSession> {
  if (precision === 'int8') {
    const session = await create(model, 'cpu', threads, 3);
    const report: DeviceReport = { requested, device: 'cpu' };
    if (requested !== 'cpu') report.fallbackReason = "an int8 backbone runs on the CPU's integer kernels; choose a float backbone for a GPU";
    return { session, report };
  }
  const candidates: Device[] = requested === 'auto' ? autoCandidates() : requested === 'cpu' ? [] : [requested];
  const failures: string[] = [];
  for (const device of candidates) {
    try {
      const session = await create(model, device, threads, 4);
      return { session, report: { requested, device } };
    } catch (error) {
      failures.push(`${device}: ${summarize(error)}`);
    }
  }
  const session = await create(model, 'cpu', threads, 3);
  const report: DeviceReport = { requested, device: 'cpu' };
  if (failures.length > 0) report.fallbackReason = failures.join('; ');
  else if (requested === 'auto' && candidates.length === 0) report.fallbackReason = `no GPU provider for ${process.platform}`;
  return { session, report };
}

// ONNX Runtime logs a failed provider load as an error on stderr before throwing; the
// exception is what we act on (and report), so keep its global logger to fatal only.
ort.env.logLevel = 'fatal';

function create(model: string | Uint8Array, device: Device, threads: SessionThreads, logSeverityLevel: 0 | 1 | 2 | 3 | 4) {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: providerOptions(device),
    intraOpNumThreads: threads.intraOp,
    interOpNumThreads: threads.interOp,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel,
    // Idle intra-op threads sleep instead of spinning: between batches the cores belong to
    // image decoding (measured: pipeline +4 %, inference alone −4 %).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

function summarize(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Failed to load (shared )?library|cannot open shared object/i.test(message)) {
    return 'provider library not installed (it is fetched by an online npm install) or its GPU runtime is missing';
  }
  if (/backend not found|no available backend/i.test(message)) return 'provider not available in this build of ONNX Runtime';
  if (/adapter/i.test(message)) return 'no WebGPU adapter (no GPU driver)';
  return message.split('\n')[0]!.slice(0, 200);
}
