/** Where the lab prints; its env decides whether a load run's view is live (see executeLoad). */
export const TERMINAL = { stdout: process.stdout, env: process.env };

/** Lines stamped with the seconds since this call: a cluster takes a while to start and to stop. */
export function elapsedLog(): (line: string) => void {
  const started = performance.now();
  return (line) => process.stdout.write(`lab: [${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
}

/** A lab that has started: what inSession announces, waits for and stops. */
export interface Session {
  /** What runs where, the first line printed. */
  banner: string;
  overrides: readonly string[];
  /** Resolves once the pods a run starts from are ready; absent where start already waited. */
  ready?: () => Promise<void>;
  /** Stops at once: a signal while the session is starting. */
  stop: () => Promise<void>;
  /** Stops at the end of the session, saying so where that takes a while. */
  shutdown: () => Promise<void>;
}

/**
 * Until the body takes over signals (a load run stops cleanly on Ctrl-C), a signal stops the lab
 * and exits 130. The returned function hands signals back; calling it again does nothing.
 */
function stopOnSignal(lab: { stop(): Promise<void> }): () => void {
  const stop = () => void lab.stop().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}

/**
 * Starts a lab, holding a signal that arrives meanwhile (a cluster takes half a minute) until the
 * start returns, then stops what started and exits 130. Without this the default action ends the
 * process at once and leaves the pod network, its namespaces and the temp folder behind.
 */
export async function startHoldingSignals<S extends { stop(): Promise<void> }>(start: () => Promise<S>): Promise<S> {
  let signalled = false;
  const hold = () => {
    signalled = true;
  };
  process.on('SIGINT', hold);
  process.on('SIGTERM', hold);
  try {
    const lab = await start();
    if (signalled) {
      await lab.stop();
      process.exit(130);
    }
    return lab;
  } finally {
    process.off('SIGINT', hold);
    process.off('SIGTERM', hold);
  }
}

/** Announces a started lab, waits for it, runs the body, and stops the lab however the body ends. */
export async function inSession<S extends Session, T>(lab: S, body: (lab: S) => Promise<T>): Promise<T> {
  const releaseSignals = stopOnSignal(lab);
  try {
    process.stdout.write(`lab: ${lab.banner}\n`);
    for (const override of lab.overrides) process.stdout.write(`lab: override ${override}\n`);
    await lab.ready?.();
    releaseSignals();
    return await body(lab);
  } finally {
    releaseSignals();
    await lab.shutdown();
  }
}
