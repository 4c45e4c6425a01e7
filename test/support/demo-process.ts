import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A port free on loopback now (the OS picks it; the demo binds it a moment later). */
export async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The demo (`test/demo/main.ts`) in a process of its own, as `npm run demo` starts it. */
export class DemoProcess {
  private child?: ChildProcess;
  private output = '';

  private constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the demo with `env` and waits until `/health` answers (its log is in the error if not). */
  static async start(env: NodeJS.ProcessEnv): Promise<DemoProcess> {
    const demo = new DemoProcess(await freePort());
    const child = spawn(
      process.execPath,
      ['--require', './test/support/swc-register.js', 'test/demo/main.ts'],
      { cwd: ROOT, env: { ...process.env, ...env, PORT: String(demo.port) } },
    );
    demo.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (demo.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (demo.output += chunk.toString()));
    const deadline = Date.now() + 25_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const up = await fetch(`${demo.url}/health`).then(
        (res) => res.ok,
        () => false,
      );
      if (up) return demo;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await demo.stop();
    throw new Error(`the demo did not start:\n${demo.output}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
