import { readFile, readdir } from 'node:fs/promises';

/** Linux reports process CPU times in clock ticks; USER_HZ is 100 on every mainstream kernel. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessUsage {
  /** User + system CPU of the process and all its descendants, in seconds since they started. */
  cpuSeconds: number;
  /** Resident set size of the process and its descendants. */
  memoryBytes: number;
}

async function children(pid: number): Promise<number[]> {
  const found: number[] = [];
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const task of tasks) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    for (const child of text.trim().split(/\s+/).filter(Boolean)) found.push(Number(child));
  }
  return found;
}

async function own(pid: number): Promise<ProcessUsage | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // The command name (field 2) may contain spaces and parentheses: fields count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, memoryBytes: rssKiB * 1024 };
}

/**
 * CPU and memory of a container's process tree, read from /proc. The node agent runs containers as
 * plain processes (no cgroup of their own), so this is what it reports where a kubelet would read
 * the container's cgroup.
 */
export async function processTreeUsage(pid: number): Promise<ProcessUsage | undefined> {
  const root = await own(pid);
  if (!root) return undefined;
  const total = { ...root };
  const queue = await children(pid);
  while (queue.length > 0) {
    const next = queue.shift() as number;
    const usage = await own(next);
    if (!usage) continue;
    total.cpuSeconds += usage.cpuSeconds;
    total.memoryBytes += usage.memoryBytes;
    queue.push(...(await children(next)));
  }
  return total;
}

/** The whole machine's CPU time (all cores, excluding idle and iowait) and used memory. */
export async function nodeUsage(): Promise<ProcessUsage> {
  const stat = await readFile('/proc/stat', 'utf8');
  const cpu = (stat.split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
  return { cpuSeconds: (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND, memoryBytes: (kib('MemTotal') - kib('MemAvailable')) * 1024 };
}
