import type { ResolvedBackbone } from '../backbones/resolve.js';
import { createOnnxFeatureExtractor, type FeatureExtractor } from '../embedding/index.js';
import { openSession, type DeviceChoice, type DeviceReport } from './devices.js';
import type * as ort from 'onnxruntime-node';

/**
 * The backbone as a feature extractor whose ONNX Runtime session opens on first use, so a
 * run whose files are all in the embedding cache never pays for (or needs) a session.
 */
export class FeatureRuntime {
  private opened: Promise<{ session: ort.InferenceSession; extractor: FeatureExtractor; report: DeviceReport }> | undefined;
  private deviceReport: DeviceReport | null = null;

  readonly extractor: FeatureExtractor;

  constructor(
    readonly backbone: ResolvedBackbone,
    private readonly device: DeviceChoice,
  ) {
    this.extractor = {
      featureDim: backbone.featureDim,
      preprocessing: backbone.preprocessing,
      run: async (pixels, count) => (await this.open()).extractor.run(pixels, count),
    };
  }

  /** Which device ran inference, or null if nothing needed inference. */
  get report(): DeviceReport | null {
    return this.deviceReport;
  }

  private open() {
    this.opened ??= (async () => {
      const { session, report } = await openSession(this.backbone.onnxPath, this.device, undefined, this.backbone.precision);
      this.deviceReport = report;
      const extractor = createOnnxFeatureExtractor(
        session,
        { inputName: this.backbone.inputName, featuresName: this.backbone.featuresName },
        this.backbone.featureDim,
        this.backbone.preprocessing,
      );
      return { session, extractor, report };
    })();
    return this.opened;
  }

  async close(): Promise<void> {
    if (this.opened) await (await this.opened).session.release();
    this.opened = undefined;
  }
}
