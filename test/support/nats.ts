import { randomBytes } from 'node:crypto';

/**
 * The NATS the cluster tests use: TEST_NATS_URL, else the local one (.ci/run starts Debian's
 * nats-server when nothing listens there). Each test file takes its own subject prefix, so files
 * running side by side on one NATS never hear each other.
 */
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export const natsPrefix = () => `test_${randomBytes(5).toString('hex')}`;
