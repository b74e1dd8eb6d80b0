/** The policy's status conditions, and the ones a decision sets. */
import type { PolicyDecision } from './decide.ts';
import type { Condition } from './policy.ts';

/** Status conditions; lastTransitionTime moves only when a condition's status changes. */
export class Conditions {
  readonly #previous: Map<string, Condition>;
  readonly #now: string;
  readonly #current = new Map<string, Condition>();

  constructor(previous: Condition[] | undefined, now: number) {
    this.#previous = new Map((previous ?? []).map((c) => [c.type, c]));
    this.#now = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    for (const c of previous ?? []) this.#current.set(c.type, c);
  }

  set(type: Condition['type'], status: Condition['status'], reason: string, message: string): void {
    const before = this.#previous.get(type);
    this.#current.set(type, { type, status, reason, message: message.slice(0, 1024), lastTransitionTime: before?.status === status ? (before.lastTransitionTime ?? this.#now) : this.#now });
  }

  get list(): Condition[] {
    const order = ['Ready', 'ScalingActive', 'ScalingLimited', 'CooldownActive', 'Conflict'];
    return [...this.#current.values()].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  }
}

const LIMITS = {
  TooManyReplicas: 'capped at maxReplicas',
  TooFewReplicas: 'raised to minReplicas',
  ScheduleFloor: 'raised to the floor of the schedule entry in force',
  PartitionCount: "capped at the Kafka topic's partition count (a replica beyond it would sit idle; allowIdleConsumers: true allows more)",
} as const;

/** Ready, ScalingActive, ScalingLimited and CooldownActive after a decision (and the write, if any). */
export function setDecisionConditions(conditions: Conditions, decision: PolicyDecision, scaleError: string | undefined, now: number, scaledAt: number | undefined): void {
  if (scaleError) conditions.set('Ready', 'False', 'FailedScale', scaleError);
  else conditions.set('Ready', 'True', 'Reconciled', decision.reason);
  if (decision.metricErrors === 0) conditions.set('ScalingActive', 'True', 'ValidMetrics', 'every metric was read');
  else {
    const failed = decision.metrics.filter((m) => m.error !== undefined);
    conditions.set('ScalingActive', 'False', 'FailedGetMetrics', `${failed.length} of ${decision.metrics.length} metric(s) could not be read; replicas are not lowered for them: ${failed.map((m) => `${m.name}: ${m.error}`).join('; ')}`);
  }
  if (decision.limit) conditions.set('ScalingLimited', 'True', decision.limit, `desired replicas ${LIMITS[decision.limit]}: ${decision.desiredReplicas}`);
  else conditions.set('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired replicas are within range');
  const until = scaledAt === undefined ? undefined : scaledAt + decision.cooldown.seconds * 1000;
  if (until !== undefined && now < until) conditions.set('CooldownActive', 'True', 'ScaledRecently', `no write to the Deployment until ${new Date(until).toISOString()} (cooldown ${decision.cooldown.seconds}s)`);
  else conditions.set('CooldownActive', 'False', 'CooldownExpired', `cooldown ${decision.cooldown.seconds}s`);
}
