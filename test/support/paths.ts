// Where the read-only shared material lives: ../shared beside the repository root.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DIR = process.env.KEIZOKU_SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');
export const CORAL_DIR = path.join(SHARED_DIR, 'models', 'coral');
export const REFERENCE_ONNX = path.join(SHARED_DIR, 'models', 'reference', 'mobilenet_v2_1.0_224_quant.float.onnx');
export const CALTECH_DIR = path.join(SHARED_DIR, 'data', 'caltech101');
export const CIFAR_DIR = path.join(SHARED_DIR, 'data', 'cifar10');
