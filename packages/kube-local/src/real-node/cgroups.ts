import { copyFile, mkdir, readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const CGROUP_FS = '/sys/fs/cgroup';

/** Every mounted cgroup hierarchy: the v1 controllers, name=systemd, and the hybrid `unified` v2. */
async function hierarchies(): Promise<string[]> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return mounts
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[4]?.startsWith(`${CGROUP_FS}/`) && /^cgroup2?$/.test(fields[fields.indexOf('-') + 1] ?? ''))
    .map((fields) => fields[4]!);
}

/**
 * The cgroup under which kubelet puts its pods (`cgroupRoot`): one per cluster slot, so pods of
 * this node are easy to find and remove, and nothing of the machine's own hierarchy is touched.
 * kubelet refuses a cgroupRoot that does not exist, so it is made here in every hierarchy; a new
 * v1 cpuset starts empty (no CPUs, no memory nodes) and takes its parent's.
 */
export async function createCgroupRoot(name: string): Promise<void> {
  for (const hierarchy of await hierarchies()) {
    const dir = join(hierarchy, name);
    await mkdir(dir, { recursive: true });
    if (hierarchy.endsWith('/cpuset')) {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if (!(await readFile(join(dir, file), 'utf8')).trim()) await copyFile(join(hierarchy, file), join(dir, file));
      }
    }
  }
}

/** The cgroup directories below `name`, deepest first. */
async function tree(dir: string): Promise<string[]> {
  const below: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) below.push(...(await tree(join(dir, entry.name))));
  }
  return [...below, dir];
}

/** Pids of every process in the cgroup tree `name`, over all hierarchies. */
export async function cgroupPids(name: string): Promise<number[]> {
  const pids = new Set<number>();
  for (const hierarchy of await hierarchies()) {
    for (const dir of await tree(join(hierarchy, name))) {
      const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').filter(Boolean)) pids.add(Number(pid));
    }
  }
  return [...pids];
}

/**
 * Kills whatever still runs in the tree (after a clean stop: nothing) and removes its directories,
 * deepest first; a directory whose last task is still exiting is retried for a few seconds.
 */
export async function removeCgroupRoot(name: string): Promise<void> {
  for (const pid of await cgroupPids(name)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  for (const hierarchy of await hierarchies()) {
    for (const dir of await tree(join(hierarchy, name))) {
      for (;;) {
        try {
          await rmdir(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  }
}

/** What of the tree still exists (empty after a clean stop). */
export async function cgroupLeftovers(name: string): Promise<string[]> {
  const found: string[] = [];
  for (const hierarchy of await hierarchies()) {
    const dir = join(hierarchy, name);
    if (await stat(dir).then(() => true, () => false)) found.push(`cgroup ${dir}`);
  }
  return found;
}
