import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { MgetBatch } from '../common/mget-batch';
import {
  closeRedis,
  connectRedis,
  describeRedis,
  isCluster,
  whenReady,
  type RedisClient,
} from '../common/redis';
import type { ChainableCommander } from 'ioredis';
import type { RedisConnection } from '../auth-options.interface';
import { revocationKeys, type RevocationKeys } from '../common/redis-keys';
import { PLAIN_VALUES, redisScripts, rotationResult } from './redis-scripts';
import {
  REVOKED,
  RevocationStore,
  type RotationResult,
  type SessionRef,
  type Successor,
  type TokenRef,
} from './revocation-store';

/** Options of the Redis store; see `AuthModuleOptions.revocation`. */
export interface RedisRevocationStoreOptions {
  /** A Redis URL, Sentinel or Cluster configuration (the store opens and closes its own connection), or a client you manage. */
  redis: RedisConnection;
  keyPrefix: string;
  timeoutMs: number;
  /** Replicas each revocation and rotation must reach before it is acknowledged (Redis WAIT). Default 0. */
  waitForReplicas?: number;
}

const SCRIPTS = redisScripts(PLAIN_VALUES);

/** The scripts, on a client and on its pipelines. */
interface Scripts<R> {
  tgRotate(...keysThenArgs: (string | number)[]): R;
  tgRevokeSession(...keysThenArgs: (string | number)[]): R;
  tgRevokeUser(...keysThenArgs: (string | number)[]): R;
}
type ScriptedRedis = RedisClient & Scripts<Promise<unknown>>;
type Write = (pipeline: ChainableCommander & Scripts<ChainableCommander>) => unknown;

/**
 * Revocations in Redis, shared by every instance and kept across restarts. Commands fail fast
 * instead of queueing while Redis is away (no offline queue, a command timeout), so the service
 * can refuse with 503; the client reconnects by itself when Redis is back.
 */
export class RedisRevocationStore extends RevocationStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('RevocationStore');
  private readonly client: ScriptedRedis;
  /**
   * The per-request check, one MGET of a token's keys: on one node the requests of one
   * event-loop turn share it; on a Cluster each goes to its user's slot (ioredis pipelines the
   * commands of one tick per node).
   */
  private readonly lookup: (keys: string[]) => Promise<(string | null)[]>;
  private readonly ownsClient: boolean;
  private readonly keys: RevocationKeys;
  /** Only a client this store configured is known to time out by itself. */
  override readonly boundsItsCalls: boolean;

  constructor(private readonly options: RedisRevocationStoreOptions) {
    super();
    const { client, owned, bounded } = connectRedis(options.redis, options.timeoutMs);
    this.ownsClient = owned;
    this.boundsItsCalls = bounded;
    this.keys = revocationKeys(options.keyPrefix);
    client.defineCommand('tgRotate', { numberOfKeys: 3, lua: SCRIPTS.rotate });
    client.defineCommand('tgRevokeSession', { numberOfKeys: 1, lua: SCRIPTS.revokeSession });
    client.defineCommand('tgRevokeUser', { numberOfKeys: 1, lua: SCRIPTS.revokeUser });
    client.on('ready', () => void this.checkServerSettings());
    this.client = client as ScriptedRedis;
    if (isCluster(client)) {
      this.lookup = (keys) => client.mget(keys);
    } else {
      const batch = new MgetBatch((keys) => client.mget(keys));
      this.lookup = (keys) => batch.get(keys);
    }
  }

  /**
   * Waits (a few seconds at most) for the first connection, so the app does not start by
   * refusing everything. If Redis is down the app still boots, answers 503, and recovers alone.
   */
  async onModuleInit(): Promise<void> {
    let lastError: unknown;
    const remember = (error: unknown) => (lastError = error);
    this.client.on('error', remember);
    const ready = await whenReady(this.client);
    this.client.off('error', remember);
    if (!ready) {
      const cause = lastError instanceof Error ? ` (${lastError.message})` : '';
      this.logger.error(
        `${this.describe()} is not reachable yet${cause}: guarded requests answer 503 until it is`,
      );
    }
  }

  override describe(): string {
    return describeRedis(this.client);
  }

  async isRevoked(ref: TokenRef): Promise<boolean> {
    const [token, session, mark] = await this.lookup(this.keys.of(ref));
    return (
      token !== null || session === REVOKED || (mark !== null && ref.issuedAtMs <= Number(mark))
    );
  }

  async startSession({ sid, sub }: SessionRef, refreshJti: string, ttlMs: number): Promise<void> {
    await this.client.set(this.keys.session(sub, sid), refreshJti, 'PX', ttlMs);
  }

  async rotate(
    token: TokenRef,
    next: Successor,
    ttlMs: number,
    graceMs: number,
  ): Promise<RotationResult> {
    const keys = this.keys.of(token);
    const args = [next.issuedAtMs, token.jti, next.jti, ttlMs, token.issuedAtMs, graceMs];
    return rotationResult(await this.write((p) => p.tgRotate(...keys, ...args)), next);
  }

  override async hasLiveSession({ sid, sub }: SessionRef): Promise<boolean> {
    const session = await this.client.get(this.keys.session(sub, sid));
    return session !== null && session !== REVOKED;
  }

  async revokeToken({ jti, sub }: Pick<TokenRef, 'jti' | 'sub'>, ttlMs: number): Promise<void> {
    await this.write((p) => p.set(this.keys.token(sub, jti), '1', 'PX', ttlMs));
  }

  async revokeSession({ sid, sub }: SessionRef, ttlMs: number): Promise<void> {
    await this.write((p) => p.tgRevokeSession(this.keys.session(sub, sid), Date.now(), ttlMs));
  }

  async revokeUser(sub: string, beforeMs: number, ttlMs: number): Promise<void> {
    await this.write((p) => p.tgRevokeUser(this.keys.user(sub), Date.now(), beforeMs, ttlMs));
  }

  /**
   * A write that must survive a failover, with `waitForReplicas`: sent with a WAIT in one
   * pipeline, so the WAIT goes to the connection (the node, on a Cluster) that took the write,
   * and counts that write's replicas. Fewer replicas in time is an error: the revocation is on the
   * master, maybe not beyond, and the caller hears that it may not hold.
   */
  private async write(command: Write): Promise<unknown> {
    const replicas = this.options.waitForReplicas ?? 0;
    const pipeline = this.client.pipeline() as ChainableCommander & Scripts<ChainableCommander>;
    command(pipeline);
    // Half the call's time: Redis answers how many replicas it has before the client gives up.
    if (replicas > 0) pipeline.wait(replicas, Math.max(1, Math.floor(this.options.timeoutMs / 2)));
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const [[, result] = [], [, acknowledged] = []] = replies;
    // A missing answer is no acknowledgement.
    if (replicas > 0 && !(Number(acknowledged) >= replicas)) {
      throw new Error(`the write reached ${String(acknowledged)} of ${replicas} replicas in time`);
    }
    return result;
  }

  async onModuleDestroy(): Promise<void> {
    if (this.ownsClient) await closeRedis(this.client);
  }

  /**
   * Settings that make Redis forget revocations, said at start-up: an eviction policy (any but
   * noeviction: every key has a TTL, so volatile-* too), and no persistence at all (a restart
   * forgets every logout, and logged-out access tokens are accepted again until they expire).
   */
  private async checkServerSettings(): Promise<void> {
    const setting = async (name: string): Promise<string | undefined> => {
      try {
        return (await this.client.config('GET', name))[1];
      } catch {
        return undefined;
      }
    };
    const [policy, appendonly, save] = await Promise.all(
      ['maxmemory-policy', 'appendonly', 'save'].map(setting),
    );
    if (policy === undefined) {
      this.logger.warn(
        'Could not read Redis settings (CONFIG GET refused); make sure maxmemory-policy is noeviction and Redis persists its data.',
      );
      return;
    }
    if (policy !== 'noeviction') {
      this.logger.warn(
        `Redis maxmemory-policy is "${policy}": under memory pressure Redis may evict revocations, ` +
          'and revoked tokens would be accepted again. Set maxmemory-policy to noeviction.',
      );
    }
    if (appendonly === 'no' && save === '') {
      this.logger.warn(
        'Redis keeps nothing on disk (appendonly no, save ""): a Redis restart forgets every logout, ' +
          'and logged-out access tokens are accepted again until they expire. Set appendonly yes ' +
          '(or a save schedule).',
      );
    }
  }
}
