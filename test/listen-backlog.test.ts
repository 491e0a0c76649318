import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startTestService, type TestService } from './support/service.js';
import { dbKind } from './support/database.js';

/** The accept queue the kernel gave the listening socket: `ss` shows it as Send-Q of a LISTEN socket. */
function acceptQueueOf(port: number): number {
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
  const [, , sendQ] = line.trim().split(/\s+/);
  return Number(sendQ);
}

const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

describe(`the listening socket's accept queue (${dbKind})`, () => {
  let svc: TestService | undefined;
  afterEach(async () => {
    await svc?.close();
    svc = undefined;
  });

  it('is as long as the kernel allows by default, not Node’s 511', async () => {
    svc = await startTestService();
    expect(acceptQueueOf(svc.service.port)).toBe(Math.min(65_535, somaxconn));
    expect(acceptQueueOf(svc.service.port)).toBeGreaterThan(511);
  });

  it('follows DYNAMO_LISTEN_BACKLOG', async () => {
    svc = await startTestService({ DYNAMO_LISTEN_BACKLOG: '97' });
    expect(acceptQueueOf(svc.service.port)).toBe(97);
  });

  it('refuses a backlog that is not a positive whole number', () => {
    expect(loadConfig({}).listenBacklog).toBe(65_535);
    expect(() => loadConfig({ DYNAMO_LISTEN_BACKLOG: '0' })).toThrow(/DYNAMO_LISTEN_BACKLOG/);
    expect(() => loadConfig({ DYNAMO_LISTEN_BACKLOG: 'many' })).toThrow(/DYNAMO_LISTEN_BACKLOG/);
  });
});
