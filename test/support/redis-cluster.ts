import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster, type Redis } from 'ioredis';
import type { RedisClusterOptions } from '../../src/index';
import { RedisServer } from './redis-server';
import type { Shared } from './redis-sentinel';

const execFileAsync = promisify(execFile);

/**
 * A Redis Cluster of the test's own on loopback ports: three masters with one replica each, real
 * redis-servers joined by `redis-cli --cluster create`.
 */
export class ClusterSetup {
  private constructor(readonly servers: RedisServer[]) {}

  static async start(): Promise<ClusterSetup> {
    const servers = await Promise.all(
      Array.from({ length: 6 }, () =>
        RedisServer.start(
          ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'].concat([
            '--cluster-node-timeout',
            '1000',
          ]),
        ),
      ),
    );
    const setup = new ClusterSetup(servers);
    try {
      await execFileAsync('redis-cli', [
        '--cluster',
        'create',
        ...servers.map((server) => `127.0.0.1:${server.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ]);
      await setup.untilReady();
    } catch (error) {
      await setup.dispose();
      throw error;
    }
    return setup;
  }

  /** What `revocation.redis` (or `rateLimit.redis`) takes. */
  get config(): RedisClusterOptions {
    return { nodes: this.servers.map((server) => ({ host: '127.0.0.1', port: server.port })) };
  }

  /** `REDIS_CLUSTER_NODES` for the demo. */
  get addresses(): string {
    return this.servers.map((server) => `127.0.0.1:${server.port}`).join(',');
  }

  /** A cluster client for inspecting keys (each command goes to its key's node). */
  client(): Cluster {
    return new Cluster(this.config.nodes);
  }

  /** How many times each command ran on the masters since the last reset, summed. */
  async commandCalls(): Promise<Record<string, number>> {
    const calls: Record<string, number> = {};
    for (const master of await this.masters()) {
      const info = await master.info('commandstats');
      for (const [, name, count] of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
        calls[name!] = (calls[name!] ?? 0) + Number(count);
      }
      master.disconnect();
    }
    return calls;
  }

  async resetStats(): Promise<void> {
    for (const master of await this.masters()) {
      await master.config('RESETSTAT');
      master.disconnect();
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.dispose()));
  }

  /** Direct clients to the servers that are masters now. */
  private async masters(): Promise<Redis[]> {
    const masters: Redis[] = [];
    for (const server of this.servers) {
      const client = server.client();
      const role = (await client.role()) as [string, ...unknown[]];
      if (role[0] === 'master') masters.push(client);
      else client.disconnect();
    }
    return masters;
  }

  /** Every node says the cluster is ok, and every slot has a master. */
  private async untilReady(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (const server of this.servers) {
      const client = server.client();
      try {
        while (!/cluster_state:ok/.test(await client.cluster('INFO'))) {
          if (Date.now() > deadline) throw new Error('the Redis Cluster did not come up in 20 s');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        client.disconnect();
      }
    }
  }
}

/** Three masters and three replicas of the suite's own, gone with it. */
export const inCluster: Shared = async () => {
  const cluster = await ClusterSetup.start();
  return {
    env: { REDIS_CLUSTER_NODES: cluster.addresses, REVOCATION_STORE: 'redis' },
    close: () => cluster.dispose(),
  };
};
