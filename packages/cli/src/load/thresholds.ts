import type { RunRecord } from './record.ts';
import type { LoadFlags } from './plan.ts';

export const EXIT_THRESHOLD_FAILED = 2;

export function thresholdResults(record: Pick<RunRecord, 'summary'>, flags: Pick<LoadFlags, 'maxErrorRate' | 'maxP99'>): RunRecord['thresholds'] {
  const results: RunRecord['thresholds'] = [];
  if (flags.maxErrorRate !== undefined) results.push({ name: 'max-error-rate', limit: flags.maxErrorRate, actual: record.summary.errorRate, passed: record.summary.errorRate <= flags.maxErrorRate });
  if (flags.maxP99 !== undefined) results.push({ name: 'max-p99-ms', limit: flags.maxP99, actual: record.summary.latency.p99, passed: record.summary.latency.p99 <= flags.maxP99 });
  return results;
}
