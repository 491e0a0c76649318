import pino, { type Logger } from 'pino';
import type { IncomingMessage } from 'node:http';
import { redactUrl } from './api/secret-params.js';

/**
 * The process logger. Keys, passwords and Authorization headers never reach it: request URLs are
 * logged through redactUrl (secret query parameters recognised after decoding), headers not at all.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.password', '*.key', 'password', 'key'],
        censor: '[REDACTED]',
      },
      serializers: {
        err: pino.stdSerializers.err,
        req: (req: IncomingMessage & { ip?: string }) => ({
          method: req.method,
          url: redactUrl(req.url ?? ''),
          remoteAddress: req.ip ?? req.socket?.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
    destination,
  );
}
