import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A redis-server of the test's own on a spare port, which the test can stop and start again. */
export class RedisServer {
  private process?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'tokenguard-redis-'));

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  /** `extraArgs` are more redis-server options, such as `['--maxmemory-policy', 'allkeys-lru']`. */
  static async start(extraArgs: string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await sparePort(), extraArgs);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again). */
  async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      // An append-only file, so what was written survives a restart (a clean shutdown flushes
      // it); no fsync per write, which takes longer than the app's store timeout on a busy disk.
      // DEBUG for the hang test.
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes']
        .concat(['--appendfsync', 'no', '--dir', this.dir, '--enable-debug-command', 'local'])
        .concat(this.extraArgs),
      { stdio: 'ignore' },
    );
    await this.waitUntil(true);
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'));
    await this.waitUntil(false);
  }

  /** Sends the server a signal: SIGSTOP to hang it (a frozen host), SIGKILL to lose it. */
  signal(signal: NodeJS.Signals): void {
    this.process?.kill(signal);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A client for inspecting the server directly. */
  client(): Redis {
    return new Redis(this.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  }

  private async waitUntil(up: boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if ((await this.answers()) === up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on ${this.port} did not ${up ? 'start' : 'stop'}`);
  }

  /** A bare PING over a socket: a client library would keep retry timers alive after a refusal. */
  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1');
      const done = (up: boolean) => {
        socket.destroy();
        resolve(up);
      };
      socket.setTimeout(500, () => done(false));
      socket.on('error', () => done(false));
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
    });
  }
}

export async function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
