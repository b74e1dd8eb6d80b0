import { setTimeout as sleep } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

export interface ShutdownOptions {
  app: FastifyInstance;
  logger: Logger;
  /** How long to keep serving after the signal while endpoint removal propagates. */
  delayMs: number;
  /** How long closing may take after the delay before the process gives up and exits 1. */
  timeoutMs: number;
}

/**
 * close-with-grace's ways of giving up (the deadline, a second signal, an error while closing),
 * each one fatal log line with its phase; its own logger is off. Shared with the worker's drain.
 */
export function giveUpLogging(logger: Logger): Pick<closeWithGrace.Options, 'logger' | 'onTimeout' | 'onSecondSignal' | 'onSecondError'> {
  return {
    logger: false,
    onTimeout: (deadlineMs) => logger.fatal({ phase: 'deadline', deadlineMs }, 'shutdown: deadline passed, exiting 1'),
    onSecondSignal: (signal) => logger.fatal({ phase: 'second-signal', signal }, 'shutdown: second signal, exiting 1'),
    onSecondError: (err) => logger.fatal({ phase: 'second-error', err }, 'shutdown: error during shutdown, exiting 1'),
  };
}

/**
 * The zero-loss drain (design notes §2), top to bottom. Kubernetes sends SIGTERM and removes the
 * pod from the Service endpoints at the same time, and proxies learn of the removal seconds later,
 * so new connections keep arriving after the signal. Each phase is logged once.
 */
export function installGracefulShutdown({ app, logger, delayMs, timeoutMs }: ShutdownOptions): { uninstall(): void } {
  const connections = trackConnections(app.server);
  let signalledAt = 0;
  const elapsedMs = () => Math.round(performance.now() - signalledAt);

  return closeWithGrace(
    {
      // close-with-grace's delay is the hard deadline for the whole sequence, not a pause.
      delay: delayMs + timeoutMs,
      ...giveUpLogging(logger),
    },
    async ({ signal, err }) => {
      signalledAt = performance.now();
      if (err) logger.fatal({ phase: 'fatal-error', err }, 'shutdown: uncaught error, draining then exiting 1');

      // 1. Readiness 503 now; liveness stays 200. 2. Every response from here on closes its socket.
      app.lifecycle.beginDrain();
      logger.info({ phase: 'drain', signal, delayMs }, 'shutdown: readiness 503, serving with Connection: close');

      // 3. Keep serving while the endpoint removal reaches every proxy.
      await sleep(delayMs);

      // 4. Stop accepting, let in-flight requests finish, close idle keep-alive sockets.
      logger.info({ phase: 'close', elapsedMs: elapsedMs() }, 'shutdown: closing listener, finishing in-flight requests');
      const closing = app.close();
      const sweeper = setInterval(connections.closeUnanswered, 250);
      connections.closeUnanswered();
      await closing;
      clearInterval(sweeper);

      // 5. close-with-grace exits 0 (1 after an uncaught error) once this resolves.
      logger.info({ phase: 'exit', elapsedMs: elapsedMs(), exitCode: err ? 1 : 0 }, 'shutdown: complete');
    },
  );
}

/**
 * Connections that hold no request being answered: idle keep-alive sockets, and slow clients whose
 * request headers never finished. Node stops enforcing headersTimeout once the listener is closed,
 * so without this a slowloris connection would hold close() until the deadline.
 */
function trackConnections(server: Server): { closeUnanswered(): void } {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    closeUnanswered() {
      // A socket's current ServerResponse (Node's _httpMessage) exists from the moment its request
      // headers are complete until the response is finished.
      for (const socket of sockets) if (!(socket as Socket & { _httpMessage?: unknown })._httpMessage) socket.destroy();
    },
  };
}
