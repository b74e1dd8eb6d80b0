import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTROL_PLANE_BINARIES, missingBinaries } from './binaries.ts';
import { Cluster, differences, type NodeKind } from './cluster.ts';
import { checkClusterDir } from './cluster-dir.ts';

interface UpFlags {
  dir: string;
  node: NodeKind | 'auto';
  apply?: string;
  for?: number;
  hpaSyncPeriod?: string;
  downscaleStabilization?: string;
  initialReadinessDelay?: string;
  cpuInitializationPeriod?: string;
}

const JANITOR = fileURLToPath(new URL('./janitor.ts', import.meta.url));

/** Starts a cluster whose pods run images built from repoRoot's Dockerfile, until a signal or flags.for. */
export async function up(flags: UpFlags, repoRoot: string): Promise<void> {
  await checkClusterDir(flags.dir);
  const missing = await missingBinaries(CONTROL_PLANE_BINARIES);
  if (missing.length > 0) throw new Error(`the control plane is not built (missing ${missing.join(', ')}): run bash scripts/setup.sh --with-cluster`);
  if (flags.node !== 'agent' && flags.node !== 'real' && flags.node !== 'auto') throw new Error(`--node must be auto, agent or real (got ${String(flags.node)})`);
  const started = performance.now();
  const log = (line: string) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  let node: NodeKind = flags.node === 'auto' ? 'real' : flags.node;
  if (flags.node === 'auto') {
    const choice = await Cluster.autoNode();
    node = choice.node;
    if (choice.why) log(`node: agent, since a real node cannot run here: ${choice.why}`);
  }
  const unavailable = await Cluster.unavailable(node);
  if (unavailable) throw new Error(node === 'real' ? `--node real cannot run here: ${unavailable} (--node agent runs without a container runtime)` : unavailable);
  let janitor: ReturnType<typeof fork> | undefined;
  const hpa = { syncPeriod: flags.hpaSyncPeriod, downscaleStabilization: flags.downscaleStabilization, initialReadinessDelay: flags.initialReadinessDelay, cpuInitializationPeriod: flags.cpuInitializationPeriod };
  for (const [flag, value] of Object.entries(hpa)) if (value !== undefined) log(`override: kube-controller-manager --horizontal-pod-autoscaler-${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${value}`);
  if (node === 'real') log('node: real (kubelet, containerd + runc, CNI bridge, kube-proxy in iptables mode)');
  else if (flags.node === 'agent') log('node: agent (the podscale node agent; --node real runs kubelet and containerd)');
  for (const difference of differences(node)) log(`stand-in: ${difference}`);
  const cluster = await Cluster.start({
    dir: flags.dir,
    repoRoot,
    hpa,
    node,
    log,
    onNetwork: (network) => {
      janitor = fork(JANITOR, [String(network.slot), ...(node === 'real' ? [resolve(flags.dir)] : [])], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached: true, execArgv: [] });
      janitor.unref();
    },
  });
  let stopping: Promise<void> | undefined;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const stop = () => {
    stopping ??= (async () => {
      log(node === 'real' ? 'stopping: controllers, then every pod (their grace periods, by kubelet), the node, the control plane' : 'stopping: pods first (their grace periods), then the node, the proxy and the control plane');
      await cluster.stop();
      janitor?.send('clean');
      janitor?.disconnect();
      log('stopped');
      stopped();
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  try {
    if (flags.apply) {
      log(`applying ${flags.apply} (kubectl apply --server-side -k)`);
      for (const line of (await cluster.apply(flags.apply)).trim().split('\n')) log(`  ${line}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  log(`services: ${cluster.servicesFile}`);
  process.stdout.write(`cluster ready: export KUBECONFIG=${cluster.kubeconfig}\n`);
  if (flags.for !== undefined) setTimeout(() => void stop(), flags.for).unref();
  await done;
}
