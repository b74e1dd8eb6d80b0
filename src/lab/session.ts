/**
 * Until the body takes over signals (a load run stops cleanly on Ctrl-C), a signal stops the lab
 * and exits 130. The returned function hands signals back; calling it again does nothing.
 */
export function stopOnSignal(lab: { stop(): Promise<void> }): () => void {
  const stop = () => void lab.stop().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}
