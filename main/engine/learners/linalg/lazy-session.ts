// A process-wide ONNX Runtime CPU session for one of the linear-algebra graphs, opened on first
// use; null where ONNX Runtime cannot run it, so the caller falls back to its JS version.
import type * as ort from 'onnxruntime-node';
import type { GraphBuilder } from '../../onnx/graph-builder.js';
import { defaultThreads, openSession } from '../../runtime/devices.js';

export function lazyCpuSession(build: () => GraphBuilder): () => Promise<ort.InferenceSession | null> {
  let session: Promise<ort.InferenceSession | null> | undefined;
  return () => {
    session ??= openSession(build().toBytes(), 'cpu', defaultThreads()).then(
      (opened) => opened.session,
      () => null,
    );
    return session;
  };
}
