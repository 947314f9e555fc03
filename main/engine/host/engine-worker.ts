// Worker-thread entry: the engine (decoding, ONNX Runtime, SQLite) runs here, never on the
// thread that serves the UI. Requests arrive already validated by the owner; results are
// checked against the API schemas before they leave, so a bug cannot send a malformed answer.
import { parentPort, workerData } from 'node:worker_threads';
import { API } from '../api/app-api.js';
import { toApiError } from '../api/error-codes.js';
import { EngineService, type EngineOptions } from './engine-service.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('engine-worker.js must run as a worker thread');
const send = (message: FromWorker) => port.postMessage(message);

let service: EngineService;
try {
  service = new EngineService(workerData as EngineOptions, (event) => send({ kind: 'event', event }));
  service.start();
  send({ kind: 'ready' });
} catch (error) {
  send({ kind: 'startFailed', error: toApiError(error) });
  process.exit(1);
}

port.on('message', (message: ToWorker) => {
  if (message.kind === 'close') {
    void service.close().finally(() => {
      send({ kind: 'closed' });
      port.close();
    });
    return;
  }
  const { id, method, request } = message;
  void (async () => {
    try {
      const parsed = API[method].request.parse(request);
      const result = API[method].result.parse(await service.call(method, parsed as never));
      send({ kind: 'result', id, result });
    } catch (error) {
      send({ kind: 'error', id, error: toApiError(error) });
    }
  })();
});
