import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * How the proxy treats traffic: passes it, cuts every connection, accepts and never answers, or
 * passes requests on but holds the replies (the server acts, the client never hears).
 */
export type ProxyMode = 'pass' | 'cut' | 'blackhole' | 'hold-replies';

/**
 * A TCP proxy on a loopback port in front of a server (Redis), whose failure mode the test
 * picks: `cut` closes every connection and refuses new ones; `blackhole` accepts connections
 * and holds every byte both ways, as a hung server (or one stopped with SIGSTOP) would;
 * `hold-replies` holds only the server's bytes, as a network that loses answers would; `pass`
 * lets everything held through again.
 */
export class TcpProxy {
  private mode: ProxyMode = 'pass';
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const accepted: { proxy?: TcpProxy } = {};
    const server = createServer((client) => accepted.proxy?.accept(client, targetPort, targetHost));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    accepted.proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return accepted.proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  set(mode: ProxyMode): void {
    this.mode = mode;
    for (const pair of this.pairs) this.apply(pair);
  }

  async close(): Promise<void> {
    this.set('cut');
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket, port: number, host: string): void {
    if (this.mode === 'cut') return void client.destroy();
    const upstream = connect(port, host);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const forget = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    client.pipe(upstream);
    upstream.pipe(client);
    this.apply(pair);
  }

  /** Puts one connection in the current mode. */
  private apply([client, upstream]: [Socket, Socket]): void {
    if (this.mode === 'cut') return void [client, upstream].forEach((socket) => socket.destroy());
    // A paused socket is not read: its bytes wait in the kernel's buffers until resumed.
    if (this.mode === 'blackhole') client.pause();
    else client.resume();
    if (this.mode === 'blackhole' || this.mode === 'hold-replies') upstream.pause();
    else upstream.resume();
  }
}
