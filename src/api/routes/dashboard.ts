import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../types.js';
import { PUBLIC } from '../auth.js';
import { errorBody } from '../errors.js';

/**
 * The built dashboard (src/web, `npm run build` → dist/web), found from this file whether it
 * runs compiled (dist/src/api/routes) or from source under the tests (src/api/routes).
 */
export function defaultWebDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'web');
}

// The dashboard loads nothing from elsewhere (no CDN) and talks only to this service; its
// script is a file of ours, so no inline script runs and the page may not be framed.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The web dashboard as static files at `/`. Public (the files hold no data; every figure is
 * fetched from the API with the key the user pastes). Hashed assets are cached for a year;
 * index.html is revalidated so a new build is picked up at once. Precompressed .br/.gz files
 * written by the build are served to clients that accept them.
 */
export async function dashboardRoutes(app: App, webDir = defaultWebDir()) {
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => void (route.config = { ...route.config, ...PUBLIC, rateLimit: false } as never));
    scope.addHook('onSend', async (_req, reply) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
    });
    if (!existsSync(join(webDir, 'index.html'))) {
      scope.get('/', { schema: { hide: true } }, async (req, reply) =>
        reply
          .code(503)
          .send(errorBody(req, 503, 'dashboard_not_built', `the dashboard is not built (no ${join(webDir, 'index.html')}): run "npm run build"`, null)),
      );
      return;
    }
    // Loaded here, not at the top: the CLI's other commands (and every process that builds the
    // app without serving files) skip its file-globbing dependencies at start.
    const { default: fastifyStatic } = await import('@fastify/static');
    await scope.register(fastifyStatic, {
      root: webDir,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      preCompressed: true,
      schemaHide: true,
      setHeaders: (reply, path) => {
        reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  });
}
