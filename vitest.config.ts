import { defineConfig } from 'vitest/config';

// Real ONNX Runtime sessions and real images: generous timeouts, and few files at once
// because CI has two cores and each session already uses them.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // prints the reliability drills' table (tries, failures) once the run ends
    globalSetup: ['test/reliability/support/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
