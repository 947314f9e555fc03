// electron-builder hook: refuse to package without the bundled default backbone (an
// installer without it would need the network on first launch).
const { existsSync, readdirSync } = require('node:fs');
const path = require('node:path');

exports.default = async function beforePack() {
  const dir = path.join(__dirname, '..', 'build', 'models');
  if (!existsSync(dir) || readdirSync(dir).length === 0) {
    throw new Error('build/models is empty: run `node scripts/bundle-default-backbone.mjs` first (npm run dist does)');
  }
};
