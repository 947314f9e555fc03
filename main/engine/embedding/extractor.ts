import * as ort from 'onnxruntime-node';
import type { Preprocessing } from '../images/types.js';

/** A frozen backbone: normalized CHW pixels in, one feature vector per image out. */
export interface FeatureExtractor {
  readonly featureDim: number;
  readonly preprocessing: Preprocessing;
  /** `pixels` holds at least count × 3 × H × W values (CHW per image); returns count × featureDim. */
  run(pixels: Float32Array, count: number): Promise<Float32Array>;
}

/**
 * Wraps an ONNX Runtime session whose input is [N, 3, H, W] float32 and whose `featuresName`
 * output is [N, featureDim] (or [N, featureDim, 1, 1]). Only that output is fetched.
 *
 * Note: onnxruntime-node's `session.run` executes synchronously on the calling (main) thread
 * inside a setImmediate; the JS event loop is blocked while it runs. embedFiles plans for this.
 */
export function createOnnxFeatureExtractor(
  session: ort.InferenceSession,
  io: { inputName: string; featuresName: string },
  featureDim: number,
  preprocessing: Preprocessing,
): FeatureExtractor {
  const perImage = 3 * preprocessing.height * preprocessing.width;
  if (!session.inputNames.includes(io.inputName)) {
    throw new Error(`model has no input "${io.inputName}" (inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes(io.featuresName)) {
    throw new Error(`model has no output "${io.featuresName}" (outputs: ${session.outputNames.join(', ')})`);
  }
  return {
    featureDim,
    preprocessing,
    async run(pixels: Float32Array, count: number): Promise<Float32Array> {
      if (!Number.isInteger(count) || count <= 0) throw new RangeError(`count must be a positive integer, got ${count}`);
      if (pixels.length < count * perImage) {
        throw new RangeError(`expected ${count * perImage} pixel values for ${count} images, got ${pixels.length}`);
      }
      const data = pixels.length === count * perImage ? pixels : pixels.subarray(0, count * perImage);
      const input = new ort.Tensor('float32', data, [count, 3, preprocessing.height, preprocessing.width]);
      const outputs = await session.run({ [io.inputName]: input }, [io.featuresName]);
      const features = outputs[io.featuresName];
      if (!features) throw new Error(`model did not return "${io.featuresName}"`);
      if (features.type !== 'float32') throw new Error(`"${io.featuresName}" is ${features.type}, expected float32`);
      const values = features.data as Float32Array;
      if (values.length !== count * featureDim) {
        throw new Error(`"${io.featuresName}" has shape [${features.dims.join(', ')}], expected ${count} × ${featureDim} values`);
      }
      return values;
    },
  };
}
