// The dashboard's own Vite project: src/web → dist/web, served by the service at `/`
// (src/api/routes/dashboard.ts). Preact through esbuild's automatic JSX runtime (no Babel).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Every script is a file of ours (the service's CSP allows no inline script).
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    // Read (then moved out of the served folder) by scripts/web-bundle-report.mjs.
    manifest: true,
  },
  server: {
    // `npm run web:dev`: the API of a service started beside it (npm start, npm run demo).
    proxy: { '/api': 'http://localhost:8080', '/openapi.json': 'http://localhost:8080' },
  },
});
