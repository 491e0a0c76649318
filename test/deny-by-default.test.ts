import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { PUBLIC, registerAuth } from '../src/api/auth.js';

const deps = { db: { query: async () => [] }, adminKeyHash: '0'.repeat(64), authFailuresPerMinute: 10 };

describe('routes deny by default', () => {
  it('refuses to start with a route that declares no auth requirement', async () => {
    const app = Fastify();
    await app.register(rateLimit, { global: false });
    registerAuth(app, deps);
    app.get('/forgotten', async () => 'open to anyone');
    await expect(app.ready()).rejects.toThrow(/without an auth requirement.*GET \/forgotten/);
  });

  it('serves a route that says it is public, and refuses a key-less request to one that needs a key', async () => {
    const app = Fastify();
    await app.register(rateLimit, { global: false });
    registerAuth(app, deps);
    app.get('/open', { config: PUBLIC }, async () => 'ok');
    app.get('/fleet', { config: { auth: { role: 'tenant', scope: 'read:charge_points' } } }, async () => 'secret');
    await app.ready();
    expect((await app.inject('/open')).statusCode).toBe(200);
    expect((await app.inject('/fleet')).statusCode).toBe(401);
    await app.close();
  });
});
