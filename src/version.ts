import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** This build's version (package.json), found from src/ (tests) or dist/src/ (the built service). */
export const VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(rel) as { name?: string; version?: string };
      if (pkg.name === 'dynamo-csms' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
})();
