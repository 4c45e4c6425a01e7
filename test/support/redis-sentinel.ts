import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RedisSentinelOptions } from '../../src/index';
import { deleteKeys, REDIS_URL } from './redis';
import { RedisServer, sparePort } from './redis-server';

const MASTER = 'tokenguard';

/**
 * Redis as Sentinel runs it, on loopback ports of the test's own: one master, one replica, and
 * three sentinels watching them (a quorum of two), each a real redis-server.
 */
export class SentinelSetup {
  private readonly dir = mkdtempSync(join(tmpdir(), 'tokenguard-sentinel-'));
  private readonly processes: ChildProcess[] = [];
  private readonly ports: number[] = [];

  private constructor(
    readonly master: RedisServer,
    readonly replica: RedisServer,
  ) {}

  static async start(): Promise<SentinelSetup> {
    // Diskless sync at once: Redis 7 waits 5 s for more replicas by default.
    const master = await RedisServer.start(['--repl-diskless-sync-delay', '0']);
    const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
    const setup = new SentinelSetup(master, replica);
    await setup.untilReplicaOnline();
    for (let i = 0; i < 3; i++) await setup.startSentinel();
    await setup.untilSentinelsKnowMaster();
    return setup;
  }

  /** What `revocation.redis` (or `rateLimit.redis`) takes. */
  get config(): RedisSentinelOptions {
    return { sentinels: this.ports.map((port) => ({ host: '127.0.0.1', port })), name: MASTER };
  }

  /** `REDIS_SENTINELS` for the demo. */
  get addresses(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.processes.map(
        (child) =>
          new Promise((resolve) =>
            child.exitCode !== null ? resolve(null) : child.once('exit', resolve).kill('SIGTERM'),
          ),
      ),
    );
    await Promise.all([this.master.dispose(), this.replica.dispose()]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startSentinel(): Promise<void> {
    const port = await sparePort();
    // A sentinel rewrites its configuration file as it learns: one writable file each.
    const file = join(this.dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `sentinel monitor ${MASTER} 127.0.0.1 ${this.master.port} 2`,
        `sentinel down-after-milliseconds ${MASTER} 1000`,
        `sentinel failover-timeout ${MASTER} 3000`,
        '',
      ].join('\n'),
    );
    this.processes.push(spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' }));
    this.ports.push(port);
  }

  /** Until the replica has its first full copy (a WAIT counts it only then). */
  private async untilReplicaOnline(): Promise<void> {
    const client = this.master.client();
    try {
      const deadline = Date.now() + 10_000;
      while (!/slave0:.*state=online/.test(await client.info('replication'))) {
        if (Date.now() > deadline) throw new Error('the replica did not sync within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      client.disconnect();
    }
  }

  private async untilSentinelsKnowMaster(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (const port of this.ports) {
      const client = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        retryStrategy: () => 50,
      });
      try {
        while (Date.now() < deadline) {
          const answer = await client
            .call('SENTINEL', 'get-master-addr-by-name', MASTER)
            .catch(() => null);
          if (Array.isArray(answer) && Number(answer[1]) === this.master.port) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        client.disconnect();
      }
    }
    if (Date.now() >= deadline) throw new Error('the sentinels did not come up within 10 s');
  }
}

/** Where demo instances of a suite keep their state: the environment for it, and its clean-up. */
export type Shared = () => Promise<{
  env: NodeJS.ProcessEnv;
  close(prefix: string): Promise<void>;
}>;

/** The test Redis at `REDIS_URL`, with the demo's `REVOCATION_STORE` (redis or cache-manager). */
export const onRedis =
  (store = 'redis'): Shared =>
  () =>
    Promise.resolve({ env: { REDIS_URL, REVOCATION_STORE: store }, close: deleteKeys });

/** A master, a replica and three sentinels of the suite's own, gone with it. */
export const behindSentinel: Shared = async () => {
  const sentinel = await SentinelSetup.start();
  const env = { REDIS_SENTINELS: sentinel.addresses, REDIS_SENTINEL_NAME: sentinel.config.name };
  return { env, close: () => sentinel.dispose() };
};
