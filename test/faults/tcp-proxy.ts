import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { bootTestApp, testDatabaseUrl, type TestApp } from '../helpers/test-app';

/**
 * A TCP proxy between the app and PostgreSQL, owned by a test: stopping it is a database that went away (refused
 * connections, open ones cut), freezing it a database that hangs (connections open, no byte either way).
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  /** Frozen: connections are accepted and kept open, but no byte goes through either way. */
  private frozen = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.frozen = false;
    const server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      if (this.frozen) return;
      const upstream = connect(this.targetPort, this.targetHost);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      this.sockets.add(upstream);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        this.pairs.delete(pair);
        client.destroy();
      });
      upstream.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    assert.ok(address && typeof address === 'object');
    this.port = address.port;
    this.server = server;
  }

  /** A database that hangs: open connections stay open but silent, new ones are accepted and never answered. */
  freeze(): void {
    this.frozen = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Refuses new connections (ECONNREFUSED) and cuts the open ones, as a crashed database would. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.pairs.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The test app reaching the suite's database through a new proxy. */
export async function bootBehindProxy(env: Record<string, string> = {}): Promise<{ t: TestApp; proxy: TcpProxy }> {
  const target = new URL(testDatabaseUrl());
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  await proxy.start();
  const viaProxy = new URL(target.toString());
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  return { t: await bootTestApp(env, viaProxy.toString()), proxy };
}
