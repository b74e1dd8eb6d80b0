import { readdir, readFile, readlink, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cgroupLeftovers, cgroupPids, removeCgroupRoot } from './cgroups.ts';
import { kubeChains, removeKubeChains } from './iptables.ts';
import { LOCK_FILE, releaseNodeLock } from './lock.ts';
import { kubeProxyCleanup } from './kube-proxy.ts';
import { mountsUnder, unmountAll } from './mounts.ts';
import { restoreSysctls, sysctlDrift } from './sysctls.ts';

/** Where a real node keeps its state, derived from the cluster directory and slot alone. */
export function nodePaths(clusterDir: string, slot: number) {
  const dir = join(clusterDir, 'node');
  return { dir, sysctls: join(dir, 'sysctls.json'), cgroupRoot: `podscale${slot}`, containerd: join(dir, 'containerd'), kubelet: join(dir, 'kubelet'), kubeProxy: join(dir, 'kube-proxy'), cni: join(dir, 'cni') };
}

/** Processes whose command line names `dir`: containerd, its shims, kubelet, kube-proxy. */
export async function processesMentioning(dir: string): Promise<{ pid: number; command: string }[]> {
  const found: { pid: number; command: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) found.push({ pid: Number(entry), command: cmdline.replaceAll('\0', ' ').trim().slice(0, 160) });
  }
  return found;
}

/** /var/log/containers links (kubelet's, a fixed path) into this node's pod logs. */
async function containerLogLinks(dir: string): Promise<string[]> {
  const links: string[] = [];
  for (const name of await readdir('/var/log/containers').catch(() => [])) {
    const target = await readlink(join('/var/log/containers', name)).catch(() => '');
    if (target.startsWith(dir)) links.push(join('/var/log/containers', name));
  }
  return links;
}

const SHIM_SOCKETS = '/run/containerd/s';

/**
 * containerd 1.6 puts its shims' sockets in /run/containerd/s whatever its state directory; a shim
 * that is killed leaves its socket file. A socket no process has bound is stale (a system
 * containerd's live ones are left alone).
 */
async function staleShimSockets(): Promise<string[]> {
  const bound = new Set((await readFile('/proc/net/unix', 'utf8').catch(() => '')).split('\n').map((line) => line.trim().split(/\s+/)[7]).filter(Boolean));
  return (await readdir(SHIM_SOCKETS).catch(() => [] as string[])).map((name) => join(SHIM_SOCKETS, name)).filter((path) => !bound.has(path));
}

/**
 * Removes whatever a real node left on the machine, whether it stopped cleanly (then this finds
 * nothing) or was killed: processes (shims and containers survive containerd), mounts under the
 * node's directory (overlay rootfs, kubelet's tmpfs volumes, netns bind mounts), its cgroups,
 * Kubernetes' iptables chains, kubelet's log links, and the sysctls it changed.
 */
export async function sweepRealNode(clusterDir: string, slot: number): Promise<void> {
  const paths = nodePaths(clusterDir, slot);
  for (const { pid } of await processesMentioning(paths.dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await removeCgroupRoot(paths.cgroupRoot);
  await unmountAll(paths.dir);
  await kubeProxyCleanup();
  await removeKubeChains();
  for (const link of await containerLogLinks(paths.dir)) await rm(link, { force: true });
  for (const socket of await staleShimSockets()) await rm(socket, { force: true });
  // Made by the shims when no containerd had made them; rmdir leaves them if anything else is inside.
  await rmdir(SHIM_SOCKETS).then(() => rmdir('/run/containerd')).catch(() => undefined);
  await restoreSysctls(paths.sysctls);
  await releaseNodeLock(clusterDir);
}

/** What of a real node is still on the machine (empty after a clean stop). */
export async function realNodeLeftovers(clusterDir: string, slot: number): Promise<string[]> {
  const paths = nodePaths(clusterDir, slot);
  return [
    ...(await processesMentioning(paths.dir)).map(({ pid, command }) => `process ${pid} ${command}`),
    ...(await cgroupPids(paths.cgroupRoot)).map((pid) => `process ${pid} in cgroup ${paths.cgroupRoot}`),
    ...(await cgroupLeftovers(paths.cgroupRoot)),
    ...(await mountsUnder(paths.dir)).map((point) => `mount ${point}`),
    ...(await kubeChains()).map((chain) => `chain ${chain}`),
    ...(await containerLogLinks(paths.dir)).map((link) => `link ${link}`),
    ...(await staleShimSockets()).map((socket) => `socket ${socket}`),
    ...(await sysctlDrift(paths.sysctls)),
    ...((await readFile(LOCK_FILE, 'utf8').catch(() => '')).includes(`\n${clusterDir}\n`) ? [`lock ${LOCK_FILE}`] : []),
  ];
}
