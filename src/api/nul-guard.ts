import type { FastifyRequest } from 'fastify';
import { badRequest } from './errors.js';

/**
 * PostgreSQL text cannot hold U+0000: a NUL in a path segment, filter or body string would
 * fail in the database as a 500. Refused here for every route at once, naming the parameter.
 */
export async function rejectNulBytes(req: FastifyRequest): Promise<void> {
  for (const input of [req.params, req.query, req.body]) {
    const where = findNul(input, '');
    if (where !== undefined) throw badRequest(where || null, `${where || 'the request'} must not contain NUL (U+0000) characters`);
  }
}

/** The path (`a.b.0`) of the first string or key holding a NUL, or undefined. */
function findNul(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 32) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const here = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return here.replace(/\u0000/g, '\\0');
    const found = findNul(item, here, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
