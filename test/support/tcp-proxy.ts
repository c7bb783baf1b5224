/**
 * A TCP proxy between an SSH client and sshd, to break the link on purpose: cutAll() resets
 * every connection (both sides see it close at once), blackholeAll() turns every connection into
 * a dead link (data and closes no longer pass either way, as when a route disappears), so only
 * keepalives can notice. New connections work normally after either.
 */
import { connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  /** Connections currently passing data. */
  readonly live: number;
  cutAll(): void;
  blackholeAll(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  dead: boolean;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  const server = createServer((client) => {
    const upstream = connect({ host: targetHost, port: targetPort });
    const pair: Pair = { client, upstream, dead: false };
    pairs.add(pair);
    const forward = (from: Socket, to: Socket) => {
      from.on("data", (chunk) => {
        if (!pair.dead) to.write(chunk);
      });
      from.on("error", () => {});
      from.on("close", () => {
        if (pair.dead) return;
        pairs.delete(pair);
        to.destroy();
      });
    };
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  const destroyAll = () => {
    for (const pair of pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port: address.port,
    get live() {
      return [...pairs].filter((pair) => !pair.dead).length;
    },
    cutAll: destroyAll,
    blackholeAll() {
      for (const pair of pairs) pair.dead = true;
    },
    async close() {
      destroyAll();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
