import type { HpaSpec } from '@podscale/hpa/types.ts';

export const SCENARIOS = ['ramp', 'spike', 'steady', 'backlog'] as const;
export type Scenario = (typeof SCENARIOS)[number];
export type HttpScenario = Exclude<Scenario, 'backlog'>;

/** Load shapes in multiples of the per-pod QPS target, so that they scale whatever the target. */
export function scenarioStages(scenario: HttpScenario, qpsTarget: number): string {
  const t = (multiple: number) => Math.round(multiple * qpsTarget);
  switch (scenario) {
    case 'ramp':
      return `20s:${t(1.5)},60s:${t(7)},45s:${t(7)},20s:0`;
    case 'spike':
      return `10s:${t(1)},5s:${t(8)},50s:${t(8)},5s:${t(1)},40s:${t(1)}`;
    case 'steady':
      return `10s:${t(3)},80s:${t(3)}`;
  }
}

/**
 * `--scenario backlog`'s burst: enough messages for twice what the partitions' workers carry at the
 * threshold, within 3 s — shorter than the controller's resync, so that its first reading after the
 * burst sees most of it and asks for more workers than partitions (capped). A slower burst would be
 * met by a smaller first step, and the cooldown would then hold it.
 */
export function backlogStages(threshold: number, partitions: number): string {
  const rate = Math.ceil((2 * threshold * partitions) / 3);
  // Stages ramp from the rate before them: a step to the burst rate, then 3 s at it.
  return `1ms:${rate},3s:${rate}`;
}

export function qpsTargetOf(spec: HpaSpec): number {
  const pods = spec.metrics?.find((m) => m.type === 'Pods');
  const value = pods?.type === 'Pods' ? Number(pods.pods.target.averageValue) : NaN;
  if (!Number.isFinite(value)) throw new Error('the HPA has no Pods metric target to size the scenario from; use --stages');
  return value;
}
