#!/usr/bin/env node
// Thin launcher so the bin link exists before `prepare` has compiled dist/.
import('../dist/main/cli/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/main/cli')) {
    console.error('keizoku: not built yet; run `npm run build` (npm ci does this through `prepare`).');
    process.exit(2);
  }
  throw error;
});
