import { Command } from 'commander';
import { up } from '@podscale/kube-local/up.ts';
import { REPO_ROOT } from '../repo-root.ts';
import { durationMs } from './parse.ts';
import { KUBERNETES_VERSION } from '@podscale/kube-local/binaries.ts';

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description(`a real Kubernetes control plane (${KUBERNETES_VERSION}, built from upstream modules) on this machine`);
  cluster
    .command('up')
    .description('start etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a node (the node agent, or --node real); runs until Ctrl-C (root)')
    .option('--dir <dir>', 'where the kubeconfig, services.json, PKI, data and logs go: a new or empty directory, or one an earlier cluster up made (it is emptied at start; any other directory is refused)', '.podscale/cluster')
    .option('--node <kind>', 'real: kubelet + containerd + runc + CNI + kube-proxy (root); agent: the podscale node agent (processes, no container runtime); auto: real where it can run, else agent', 'auto')
    .option('--apply <dir>', 'kubectl apply --server-side -k this kustomization once the cluster is ready (e.g. k8s/)')
    .option('--for <duration>', 'stop by itself after this long (e.g. 10m)', durationMs)
    .option('--hpa-sync-period <duration>', "kube-controller-manager's HPA sync period (upstream default 15s)")
    .option('--downscale-stabilization <duration>', 'HPA scale-down stabilization window (upstream default 5m)')
    .option('--initial-readiness-delay <duration>', 'HPA initial readiness delay (upstream default 30s)')
    .option('--cpu-initialization-period <duration>', 'HPA CPU initialization period (upstream default 5m)')
    .action((flags: Parameters<typeof up>[0]) => up(flags, REPO_ROOT));
  return cluster;
}
