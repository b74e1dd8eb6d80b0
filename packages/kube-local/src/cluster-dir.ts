import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { unmountAll } from './real-node/mounts.ts';

/**
 * The file `cluster up` writes into every directory it makes its own. A directory is emptied at
 * the next start only when this file is there and says so: `--dir .` or `--dir ~/project` must
 * never lose a user's files (it did, when start began with `rm -rf DIR`).
 */
export const CLUSTER_DIR_MARKER = '.podscale-cluster';
const MARKER_TEXT = 'This directory was made by `podscale cluster up`; it empties it at every start.\n';

export class ForeignDirectoryError extends Error {
  constructor(dir: string, why: string) {
    super(`--dir ${dir} ${why}, so cluster up will not use it and touched nothing in it: give a new or empty directory (the default is .podscale/cluster), or remove its contents yourself`);
    this.name = 'ForeignDirectoryError';
  }
}

type DirState = 'missing' | 'empty' | 'ours';

async function inspect(dir: string): Promise<DirState> {
  const stat = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!stat) return 'missing';
  if (!stat.isDirectory()) throw new ForeignDirectoryError(dir, stat.isSymbolicLink() ? 'is a symbolic link' : 'is not a directory');
  const entries = await readdir(dir);
  if (entries.length === 0) return 'empty';
  if (entries.includes(CLUSTER_DIR_MARKER)) {
    const marker = join(dir, CLUSTER_DIR_MARKER);
    if ((await lstat(marker)).isFile() && (await readFile(marker, 'utf8')) === MARKER_TEXT) return 'ours';
  }
  throw new ForeignDirectoryError(dir, `is not empty and has no ${CLUSTER_DIR_MARKER} marker from an earlier cluster up`);
}

/** Throws ForeignDirectoryError unless `dir` is missing, empty or one `cluster up` made. Changes nothing. */
export async function checkClusterDir(dir: string): Promise<void> {
  await inspect(resolve(dir));
}

/**
 * Makes `dir` an empty cluster directory of our own: created when missing, marked when empty,
 * emptied (a killed real node's mounts first, which rm must not recurse into) when an earlier
 * start marked it. Anything else is refused before anything is touched.
 */
export async function prepareClusterDir(dir: string): Promise<string> {
  const path = resolve(dir);
  const state = await inspect(path);
  if (state === 'ours') {
    await unmountAll(path);
    for (const entry of await readdir(path)) if (entry !== CLUSTER_DIR_MARKER) await rm(join(path, entry), { recursive: true, force: true });
  }
  await mkdir(path, { recursive: true });
  await writeFile(join(path, CLUSTER_DIR_MARKER), MARKER_TEXT);
  return path;
}
