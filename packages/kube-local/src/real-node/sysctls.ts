import { readdir, readFile, rm, writeFile } from 'node:fs/promises';

/**
 * The machine-wide kernel settings a real node changes, which `cluster up` puts back when it stops
 * (and the janitor after a SIGKILL): the pod network needs forwarding, and kubelet's
 * `protectKernelDefaults: false` (the default; `true` makes kubelet refuse to start here) sets the
 * values it expects (overcommit 1, panic 10 s, panic on oops) rather than only checking them.
 */
const TOUCHED = [
  'net/ipv4/ip_forward',
  'net/ipv4/conf/all/route_localnet',
  'net/bridge/bridge-nf-call-iptables',
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];

async function read(key: string): Promise<string | undefined> {
  return (await readFile(`/proc/sys/${key}`, 'utf8').catch(() => undefined))?.trim();
}

export async function writeSysctl(key: string, value: string): Promise<void> {
  await writeFile(`/proc/sys/${key}`, `${value}\n`);
}

/** Records the current values in `file`, unless a record is already there (from a killed run). */
export async function saveSysctls(file: string): Promise<void> {
  if (await readFile(file, 'utf8').catch(() => undefined)) return;
  const values: Record<string, string> = {};
  for (const key of TOUCHED) {
    const value = await read(key);
    if (value !== undefined) values[key] = value;
  }
  await writeFile(file, `${JSON.stringify(values, null, 2)}\n`);
}

/**
 * Forwarding is shared with podman, whose bridge networks need it too and set it themselves: it is
 * put back only while no podman network is up, so a teardown here never cuts off a container there.
 */
async function sharedWithPodman(key: string): Promise<boolean> {
  if (key !== 'net/ipv4/ip_forward') return false;
  const links = await readdir('/sys/class/net').catch(() => [] as string[]);
  return links.some((link) => /^(podman|cni-podman)/.test(link));
}

/** Puts every recorded value back and removes the record; returns what it changed back. */
export async function restoreSysctls(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (!text) return [];
  const restored: string[] = [];
  for (const [key, value] of Object.entries(JSON.parse(text) as Record<string, string>)) {
    if ((await read(key)) === value || (await sharedWithPodman(key))) continue;
    await writeSysctl(key, value).catch(() => undefined);
    restored.push(`${key}=${value}`);
  }
  await rm(file, { force: true });
  return restored;
}

/** Recorded values that differ from the machine's now (empty after a clean stop). */
export async function sysctlDrift(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (!text) return [];
  const drift: string[] = [];
  for (const [key, value] of Object.entries(JSON.parse(text) as Record<string, string>)) {
    const now = await read(key);
    if (now !== value && !(await sharedWithPodman(key))) drift.push(`sysctl ${key}=${now} (was ${value})`);
  }
  return drift;
}
