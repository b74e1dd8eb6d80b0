import type { LoadFlags } from '../load/plan.ts';
import type { Scenario } from './scenarios.ts';

export const CONTROL_PLANES = ['lab', 'kubernetes'] as const;

export interface LabFlags {
  controlPlane: (typeof CONTROL_PLANES)[number];
  scenario?: Scenario;
  stages?: string;
  path: string;
  after?: number;
  syncPeriod?: number;
  kubernetesVersion?: string;
  propagationDelay: number;
  scrapeInterval?: number;
  rateWindow?: number;
  qpsTarget?: number;
  cpuTarget?: number;
  min?: number;
  max?: number;
  scaleDownWindow?: number;
  prometheus: boolean;
  report?: string;
  out?: string;
  plain?: boolean;
  rate: number;
  partitions: number;
  threshold: number;
  cooldown: number;
  workMs: number;
}

export function loadFlags(flags: LabFlags, extra: Partial<LoadFlags>): LoadFlags {
  return {
    rate: flags.rate,
    duration: 30_000,
    maxInFlight: 2000,
    connections: 32,
    timeout: 10_000,
    method: 'GET',
    header: {},
    namespace: 'default',
    ...(flags.plain ? { plain: true } : {}),
    ...(flags.out ? { out: flags.out } : {}),
    ...(flags.report ? { report: flags.report } : {}),
    ...extra,
  };
}
