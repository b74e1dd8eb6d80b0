import { toMilli } from '@podscale/hpa/quantity.ts';
import type { MetricProposal } from '@podscale/hpa/types.ts';
import type { SyncRecord } from './controller.ts';

/** "100019m" → "100.0": the view's quantities, readable; utilizations stay whole percents. */
function readable(proposal: MetricProposal): string {
  if (proposal.current === null) return `${proposal.name} unavailable`;
  const value = (quantity: string) => {
    const n = toMilli(quantity) / 1000;
    return Number.isInteger(n) ? String(n) : n.toFixed(1);
  };
  const unit = proposal.type === 'Resource' || proposal.type === 'ContainerResource' ? (/^\d+$/.test(proposal.target) ? '%' : '') : '';
  return `${proposal.name} ${value(proposal.current)}${unit} vs ${value(proposal.target)}${unit}`;
}

/**
 * The metrics that set a sync's recommendation: those whose proposal is the largest (the HPA takes
 * the max over metrics). Empty when no metric proposed anything, e.g. a min/max correction.
 */
export function drivers(sync: SyncRecord): MetricProposal[] {
  const proposals = sync.decision.metrics.filter((m) => m.proposal !== null);
  if (proposals.length === 0 || sync.decision.recommendation === undefined) return [];
  const top = Math.max(...proposals.map((m) => m.proposal!));
  return proposals.filter((m) => m.proposal === top);
}

/**
 * What drove the replicas in this run, told from the controller's own decisions: each change with
 * the metric values behind it, then which metric made the scale-ups. Which metric wins depends on
 * the machine (a slow or busy one spends more CPU per request), so this is read, never assumed.
 */
export function scalingStory(syncs: SyncRecord[]): string[] {
  const changes = syncs.filter((s) => s.decision.desiredReplicas !== s.from);
  if (changes.length === 0) {
    const last = syncs.at(-1);
    return [last ? `replicas stayed at ${last.from}; last decision: ${last.decision.reason}` : 'no HPA sync ran'];
  }
  const lines = ['what drove the replicas (from the HPA decisions):'];
  const upsBy = new Map<string, number>();
  for (const sync of changes) {
    const winners = drivers(sync);
    const others = sync.decision.metrics.filter((m) => !winners.includes(m));
    const up = sync.decision.desiredReplicas > sync.from;
    let why: string;
    if (winners.length === 0) why = sync.decision.reason;
    else if (up) {
      why = `${winners.map(readable).join(' and ')} proposed ${winners[0]!.proposal}${others.length > 0 ? ` (${others.map((m) => `${readable(m)} proposed ${m.proposal ?? '-'}`).join(', ')})` : ''}`;
      const key = winners.map((m) => m.name).join(' and ');
      upsBy.set(key, (upsBy.get(key) ?? 0) + 1);
    } else why = `all metrics below target: ${sync.decision.metrics.map((m) => `${readable(m)} proposed ${m.proposal ?? '-'}`).join(', ')}`;
    lines.push(`  ${sync.t.toFixed(0).padStart(4)}s  ${sync.from} → ${sync.decision.desiredReplicas}  ${why}`);
  }
  const ups = [...upsBy].map(([name, count]) => `${name} ×${count}`);
  const downs = changes.filter((s) => s.decision.desiredReplicas < s.from).length;
  lines.push(`scale-ups driven by ${ups.length > 0 ? ups.join(', ') : 'no metric'}; ${downs} scale-down(s)`);
  return lines;
}
