import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pino from 'pino';
import type { AppConfig } from '../../config/app-config';
import { ShutdownState } from './shutdown-state';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The first SIGTERM/SIGINT drains: /health/ready answers 503 at once (the rest is served for SHUTDOWN_DELAY_MS, so that
 * load balancers stop sending), then the listener closes, requests on kept-alive connections are refused with 503,
 * the requests already running finish, socket.io closes every socket (clients see a `transport close` and reconnect
 * elsewhere), the schedulers stop, Redis and the database pool are closed, an embedded PostgreSQL is stopped, exit 0.
 * Whatever still runs SHUTDOWN_TIMEOUT_MS after the signal is cut, with an error log and exit code 1.
 */
export function gracefulShutdown(
  app: NestFastifyApplication,
  config: AppConfig,
  logger: pino.Logger,
  stopDatabase: () => Promise<void> | undefined,
): (signal: string) => void {
  const state = app.get(ShutdownState);
  let started = 0;
  let finished = false;
  const exit = async (code: number) => {
    if (finished) return;
    finished = true;
    // A stuck embedded PostgreSQL must not hold the exit either.
    await Promise.race([Promise.resolve(stopDatabase()).catch(() => undefined), sleep(5000)]);
    process.exit(code);
  };
  const cut = () => {
    logger.error(
      { timeout_ms: config.shutdownTimeoutMs, in_flight: state.inFlight },
      'Shutdown timed out: cutting the requests still running',
    );
    app.getHttpServer().closeAllConnections();
    void exit(1);
  };
  const drain = async () => {
    await sleep(config.shutdownDelayMs);
    state.close();
    // No new connection from here; idle kept-alive ones are closed, busy ones close after their response.
    app.getHttpServer().close();
    logger.info({ in_flight: state.inFlight }, 'Listener closed; waiting for the requests in flight');
    while (state.inFlight > 0) await sleep(20);
    // Then sockets (socket.io), schedulers, Redis, the database pool: the requests that needed them are done.
    await app.close();
  };
  return (signal) => {
    // Further signals change nothing (npm forwards the one a terminal or `kill -- -pgid` already sent to the group).
    if (started > 0) return;
    started = Date.now();
    state.drain();
    logger.info(
      { signal, delay_ms: config.shutdownDelayMs, timeout_ms: config.shutdownTimeoutMs },
      'Shutting down: /health/ready answers 503',
    );
    setTimeout(cut, config.shutdownTimeoutMs);
    drain().then(
      () => {
        logger.info({ shutdown_ms: Date.now() - started }, 'Shut down cleanly');
        void exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'Shutdown failed');
        void exit(1);
      },
    );
  };
}
