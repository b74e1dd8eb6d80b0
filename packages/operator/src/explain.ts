/**
 * `podscale policy explain`: JSON Lines in (a policy, an instant, what the controller would read),
 * one decision per line out — the same decidePolicy() the controller runs, with no cluster.
 */
import { createInterface } from 'node:readline';
import type { PodInfo } from '@podscale/hpa/types.ts';
import { decidePolicy, type MetricValues } from './decide.ts';
import { specProblems, type PolicySpec } from './policy.ts';

export interface ExplainInput {
  /** An AutoScalerPolicy (its spec is used) or just the spec. */
  policy: { spec: PolicySpec } | PolicySpec;
  /** ISO 8601 instant, e.g. "2026-03-29T07:30:00Z". */
  now: string;
  currentReplicas: number;
  pods?: (Omit<PodInfo, 'startTimeS' | 'readySinceS'> & { startTime?: string; readySince?: string })[];
  metrics?: MetricValues;
  lastScaleTime?: string;
  minCooldownSeconds?: number;
}

function instant(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${what} must be an ISO 8601 time such as "2026-03-29T07:30:00Z"`);
  return ms;
}

export function explainPolicyLine(line: string): { output: string; ok: boolean } {
  try {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new Error(`not JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('a line must be a JSON object');
    const input = parsed as Partial<ExplainInput>;
    if (typeof input.policy !== 'object' || input.policy === null) throw new Error('policy is required');
    const spec = ('spec' in input.policy ? input.policy.spec : input.policy) as PolicySpec;
    const problems = specProblems(spec);
    if (problems.length > 0) throw new Error(`invalid policy: ${problems.join('; ')}`);
    if (!Number.isInteger(input.currentReplicas) || input.currentReplicas! < 0) throw new Error('currentReplicas must be a whole number');
    const now = instant(input.now, 'now');
    const pods = (input.pods ?? []).map(({ startTime, readySince, ...pod }) => ({
      ...pod,
      startTimeS: startTime === undefined ? undefined : instant(startTime, 'pods[].startTime') / 1000,
      readySinceS: readySince === undefined ? undefined : instant(readySince, 'pods[].readySince') / 1000,
    }));
    const decision = decidePolicy({
      spec,
      now,
      currentReplicas: input.currentReplicas!,
      pods,
      values: input.metrics,
      lastScaleTime: input.lastScaleTime === undefined ? undefined : instant(input.lastScaleTime, 'lastScaleTime'),
      minCooldownSeconds: input.minCooldownSeconds,
    });
    return {
      ok: true,
      output: JSON.stringify({
        desiredReplicas: decision.desiredReplicas,
        write: decision.write,
        reason: decision.reason,
        metrics: decision.metrics,
        scheduleEntry: decision.schedule ? { ...decision.schedule.entry, since: new Date(decision.schedule.since).toISOString() } : null,
        limit: decision.limit ?? null,
        cooldown: { seconds: decision.cooldown.seconds, active: decision.cooldown.active, until: decision.cooldown.until === undefined ? null : new Date(decision.cooldown.until).toISOString(), bypassed: decision.cooldown.bypassed },
      }),
    };
  } catch (error) {
    return { output: JSON.stringify({ error: error instanceof Error ? error.message : String(error) }), ok: false };
  }
}

export async function explainPolicyStream(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<boolean> {
  let allOk = true;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const { output: text, ok } = explainPolicyLine(line);
    allOk &&= ok;
    output.write(`${text}\n`);
  }
  return allOk;
}
