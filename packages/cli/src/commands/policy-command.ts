import { Command } from 'commander';
import { explainPolicyStream } from '@podscale/operator/explain.ts';

export function policyCommand(): Command {
  const policy = new Command('policy').description('AutoScalerPolicy (autoscale.podscale.dev/v1): what the podscale controller decides');
  policy
    .command('explain')
    .description('read policy situations as JSON Lines on stdin (policy, now, currentReplicas, pods, metrics, lastScaleTime); write the replicas chosen and why, one line each')
    .addHelpText(
      'after',
      `
Input, one JSON object per line:
  {"policy": <an AutoScalerPolicy, or just its spec>,
   "now": "2026-01-10T22:30:00Z",              the instant (the schedule reads it in spec.timeZone)
   "currentReplicas": 3,                        the Deployment's spec.replicas
   "pods": [{"name": "p0", "phase": "Running", "ready": true, "requests": {"cpu": "100m"}}],
   "metrics": {"cpu": {"p0": "50m"},                              metrics.k8s.io usage per pod
               "pods": {"http_requests_per_second": {"p0": "90"}}, custom metric per pod
               "prometheus": {"<query>": 7000},                   each query's value
               "errors": {"<cpu | metric name | query>": "why it could not be read"}},
   "lastScaleTime": "2026-01-10T22:29:00Z",     status.lastScaleTime (optional)
   "minCooldownSeconds": 120}                   the controller's --min-cooldown (optional)
A metric with no entry under "metrics" could not be read. Pods as in \`podscale hpa explain\`
(startTime and readySince as ISO times).

Output, one line each: {"desiredReplicas", "write" (false while the cooldown holds),
"reason", "metrics": [{type, name, current, threshold, proposal | error}], "scheduleEntry",
"limit" (TooManyReplicas | TooFewReplicas | ScheduleFloor | null), "cooldown"}; a line that
cannot be understood gets {"error": "..."} and the exit code is 1.
`,
    )
    .action(async () => {
      const ok = await explainPolicyStream(process.stdin, process.stdout);
      process.exitCode = ok ? 0 : 1;
    });
  return policy;
}
