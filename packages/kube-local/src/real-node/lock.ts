import { open, readFile, rm } from 'node:fs/promises';
import { alive } from '@podscale/process/alive.ts';

/**
 * One real node per machine: kube-proxy's KUBE-* chains are machine-wide, and the image store
 * (the containerd root in the cache) is shared by every run. The lock file names the holder's pid
 * and cluster directory; a holder that is gone (a SIGKILLed run) no longer holds it.
 */
export const LOCK_FILE = '/run/podscale-real-node.lock';

/** Who holds the lock, if a live process does. */
export async function lockHolder(): Promise<{ pid: number; dir: string } | undefined> {
  const text = await readFile(LOCK_FILE, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const [pid, dir] = text.trim().split('\n');
  return pid && alive(Number(pid)) && Number(pid) !== process.pid ? { pid: Number(pid), dir: dir ?? '' } : undefined;
}

export async function acquireNodeLock(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(LOCK_FILE, 'wx');
      await file.writeFile(`${process.pid}\n${dir}\n`);
      await file.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await lockHolder();
      if (holder) throw new Error(`another real node is running (pid ${holder.pid}, ${holder.dir}); one per machine, since its iptables chains are machine-wide`);
      await rm(LOCK_FILE, { force: true });
    }
  }
  throw new Error(`cannot take ${LOCK_FILE}`);
}

/** Releases the lock if `dir`'s run holds it (or nobody alive does). */
export async function releaseNodeLock(dir: string): Promise<void> {
  const text = await readFile(LOCK_FILE, 'utf8').catch(() => undefined);
  if (!text) return;
  const [pid, holderDir] = text.trim().split('\n');
  if (holderDir === dir || !alive(Number(pid))) await rm(LOCK_FILE, { force: true });
}
