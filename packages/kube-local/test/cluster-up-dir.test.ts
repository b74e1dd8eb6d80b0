import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_DIR_MARKER, checkClusterDir, ForeignDirectoryError, prepareClusterDir } from '@podscale/kube-local/cluster-dir.ts';
import { runCli } from '../../../test/helpers/child.ts';

/** Every file and directory below `dir` with its content and mtime: what "untouched" means. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = await stat(path);
    found[relative(dir, path)] = entry.isFile() ? `${mtimeMs} ${await readFile(path, 'utf8')}` : `${mtimeMs} dir`;
  }
  return found;
}

/** A folder a user might point --dir at by mistake: a project with a log file and a subfolder. */
async function userFolder(root: string): Promise<string> {
  const dir = join(root, 'project');
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'run.log'), 'the log a held-out check lost\n');
  await writeFile(join(dir, 'src', 'main.ts'), 'export {};\n');
  return dir;
}

describe('cluster up --dir: it empties only a directory it made', () => {
  const roots: string[] = [];
  const tempRoot = async () => {
    const root = await mkdtemp(join(tmpdir(), 'podscale-dir-'));
    roots.push(root);
    return root;
  };
  afterEach(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  it('refuses a non-empty folder without its marker, and every file in it is intact', async () => {
    const dir = await userFolder(await tempRoot());
    const before = await snapshot(dir);
    await expect(prepareClusterDir(dir)).rejects.toThrow(ForeignDirectoryError);
    await expect(prepareClusterDir(dir)).rejects.toThrow(/is not empty and has no \.podscale-cluster marker.*touched nothing/);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('refuses a folder whose marker it did not write (a file of that name with other content)', async () => {
    const dir = await userFolder(await tempRoot());
    await writeFile(join(dir, CLUSTER_DIR_MARKER), 'mine\n');
    const before = await snapshot(dir);
    await expect(prepareClusterDir(dir)).rejects.toThrow(ForeignDirectoryError);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('refuses a file and a symbolic link in place of a directory', async () => {
    const root = await tempRoot();
    await writeFile(join(root, 'file'), 'x');
    await symlink(await userFolder(root), join(root, 'link'));
    await expect(checkClusterDir(join(root, 'file'))).rejects.toThrow(/is not a directory/);
    await expect(checkClusterDir(join(root, 'link'))).rejects.toThrow(/is a symbolic link/);
  });

  it('creates a missing directory and marks it; marks an empty one', async () => {
    const root = await tempRoot();
    const created = await prepareClusterDir(join(root, 'a', 'b'));
    expect(await readdir(created)).toEqual([CLUSTER_DIR_MARKER]);
    await mkdir(join(root, 'empty'));
    expect(await readdir(await prepareClusterDir(join(root, 'empty')))).toEqual([CLUSTER_DIR_MARKER]);
  });

  it('empties a directory an earlier start marked, and keeps it marked', async () => {
    const dir = await prepareClusterDir(join(await tempRoot(), 'cluster'));
    await mkdir(join(dir, 'etcd', 'member'), { recursive: true });
    await writeFile(join(dir, 'etcd', 'member', 'wal'), 'x');
    await writeFile(join(dir, 'kubeconfig'), 'x');
    await prepareClusterDir(dir);
    expect(await readdir(dir)).toEqual([CLUSTER_DIR_MARKER]);
  });

  it('`podscale cluster up --dir <a user folder>` exits 1 with what to do, before anything else, and the folder is intact', async () => {
    const dir = await userFolder(await tempRoot());
    const before = await snapshot(dir);
    const { code, stderr, stdout } = await runCli(['cluster', 'up', '--dir', dir]);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^podscale: --dir ${dir} is not empty and has no \\.podscale-cluster marker.*give a new or empty directory`));
    expect(stdout).toBe('');
    expect(await snapshot(dir)).toEqual(before);
  });
});
