import type { Redis } from 'ioredis';

type Publish = (channel: string, message: string | Buffer) => Promise<number>;

/**
 * Replaces `client.publish` with one that sends the publishes of one turn of the event loop to Redis together, as
 * one pipeline (one write, in the order they were made), at the next `setImmediate`. A door batch answers its scans
 * together and each decision broadcasts an `accessScanned`: published one by one, that was one system call per scan
 * (about a tenth of a door scan's server CPU with the Redis adapter, in bench/doors). ioredis's own auto-pipelining
 * does not help here: it flushes on `process.nextTick`, which runs between the `setImmediate` callbacks that carry
 * the domain events.
 *
 * A publish never rejects (the socket.io adapter does not handle a failed publish, and the process would stop on the
 * unhandled rejection): a failure is told to `onError` (once per failed pipeline) and answers 0 receivers.
 */
export function batchPublishes(client: Redis, onError: (error: Error) => void): void {
  let queue: { channel: string; message: string | Buffer; resolve: (receivers: number) => void }[] = [];

  const flush = () => {
    const batch = queue;
    queue = [];
    const pipeline = client.pipeline();
    for (const { channel, message } of batch) pipeline.publish(channel, message);
    pipeline.exec().then(
      (results) => {
        let failure: Error | null = null;
        batch.forEach((p, i) => {
          const [error, receivers] = results?.[i] ?? [new Error('no reply from Redis'), 0];
          failure ??= error;
          p.resolve(error ? 0 : Number(receivers));
        });
        if (failure) onError(failure);
      },
      (error: Error) => {
        onError(error);
        for (const p of batch) p.resolve(0);
      },
    );
  };

  const publish: Publish = (channel, message) =>
    new Promise((resolve) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ channel, message, resolve });
    });
  Object.assign(client, { publish });
}
