// Keizoku's own TFLite importer: a .tflite image classifier (float or quantized) becomes an ONNX
// feature extractor that onnxruntime-node can run with a symbolic batch: a float graph, or for a
// quantized model on request an int8 (QDQ) graph that runs on ONNX Runtime's integer kernels.
// Either way the graph's inputs and outputs are float32.
import { readModel } from './schema.js';
import type { Precision } from './ops.js';
import { convertModel } from './to-onnx.js';

export type { Precision } from './ops.js';

export { TfliteFormatError } from './schema.js';

export interface ImportedBackbone {
  onnx: Uint8Array; // serialized ONNX model
  inputName: 'input'; // float32 [N,3,H,W], already normalized to the model's real-valued input range
  featuresName: 'features'; // float32 [N,D]: global-average-pooled penultimate tensor
  logitsName?: 'logits'; // float32 [N,K] pre-softmax class scores, only when the model has a classifier
  probabilitiesName?: 'probabilities'; // softmax of logits, when the model ends in SOFTMAX
  inputSize: { height: number; width: number };
  featureDim: number;
  // the real-valued input range derived from the input tensor's quantization: real = (q - zeroPoint) * scale
  inputQuantization?: { scale: number; zeroPoint: number };
}

export interface ImportOptions {
  /** TFLite tensor name to expose as `features` (default: the last global pooling output). */
  featureTensor?: string;
  /**
   * More tensors to pool and append to the features (names, or a name's first ';'-segment):
   * `features` becomes [main, tap₁, …], each block L2-normalized on its own.
   */
  featureTaps?: readonly string[];
  /** A name for error messages, e.g. the file name. */
  modelName?: string;
  /**
   * 'float' (default): every quantized constant dequantized, float arithmetic. 'int8': quantized
   * weights and activations keep their TFLite integers and scales in a QDQ graph, which ONNX
   * Runtime's CPU provider runs with integer kernels (QLinearConv, QLinearAdd, ...); a float
   * model gives the float graph either way.
   */
  precision?: Precision;
}

/**
 * Converts a TFLite flatbuffer to an ONNX feature extractor. Throws TfliteFormatError for files
 * that are not readable TFLite models, and `Error("unsupported TFLite op X in <model>")` for ops
 * outside the supported set.
 */
export function importTflite(bytes: Uint8Array, options: ImportOptions = {}): ImportedBackbone {
  return convertModel(readModel(bytes), options);
}
