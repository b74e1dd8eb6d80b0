import { Command } from 'commander';
import { explainPolicyStream } from '../operator/explain.ts';

export function policyCommand(): Command {
  const policy = new Command('policy').description('AutoScalerPolicy (autoscale.podscale.dev/v1): what the podscale controller decides');
  policy
    .command('explain')
    .description('read policy situations as JSON Lines on stdin (policy, now, currentReplicas, pods, metrics, lastScaleTime); write the replicas chosen and why, one line each')
    .action(async () => {
      const ok = await explainPolicyStream(process.stdin, process.stdout);
      process.exitCode = ok ? 0 : 1;
    });
  return policy;
}
