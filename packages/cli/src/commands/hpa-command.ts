import { Command, Option } from 'commander';
import { explainStream } from '@podscale/hpa/explain.ts';
import { DEFAULT_KUBERNETES_VERSION, KUBERNETES_VERSIONS, type KubernetesVersion } from '@podscale/hpa/gates.ts';

const PER_MINOR = `
Kubernetes minors (--kubernetes-version, or a situation's "kubernetesVersion"; the flag wins):
  1.34  behavior.*.tolerance ignored unless "featureGates": {"HPAConfigurableTolerance": true}
  1.35  tolerance counts by default; an Object/External Value proposal past int32 is 2147483647
        (1.34: a proposal of 0); an External Value sum stops at MaxInt64; a pod without a
        ContainerResource metric's container fails the metric
  1.36  a target at 0 replicas is scaled up only from a zero the HPA made itself ("scaledToZero":
        true, with "featureGates": {"HPAScaleToZero": true}); otherwise scaling is disabled, even
        with minReplicas 0
  1.37  (default) HPAScaleToZero on, HPAConfigurableTolerance locked on
Format and examples: docs/hpa-explain.md`;

export function hpaCommand(): Command {
  const hpa = new Command('hpa').description('the HorizontalPodAutoscaler algorithm, as kube-controller-manager runs it');
  hpa
    .command('explain')
    .description('read HPA situations as JSON Lines on stdin; write what the HPA would decide, and why, one line each')
    .addOption(
      new Option('--kubernetes-version <minor>', `decide as kube-controller-manager of this minor does (default: a situation's own kubernetesVersion, else ${DEFAULT_KUBERNETES_VERSION})`).choices(
        KUBERNETES_VERSIONS,
      ),
    )
    .addHelpText('after', PER_MINOR)
    .action(async (options: { kubernetesVersion?: KubernetesVersion }) => {
      const ok = await explainStream(process.stdin, process.stdout, { kubernetesVersion: options.kubernetesVersion });
      process.exitCode = ok ? 0 : 1;
    });
  return hpa;
}
