import type { FastifyReply } from 'fastify';

/**
 * Sends an answer already written as JSON bytes (the writers in this folder). Fastify sends a Buffer
 * as it is: no serialiser and no preSerialization hook, so the writer formats its own timestamps.
 * The route's response schema still documents the answer; test/fleet-answers.test.ts holds each
 * writer to it.
 */
export function sendJsonBytes(reply: FastifyReply, json: Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}
