import { createInterface } from 'node:readline';
import { decide } from './decide.ts';
import { parseKubernetesVersion, type KubernetesVersion } from './gates.ts';
import type { PodInfo, Situation } from './types.ts';

/** A pod as `podscale hpa explain` reads it (docs/hpa-explain.md): its times are named without their unit. */
type InputPod = Omit<PodInfo, 'startTimeS' | 'readySinceS'> & { startTime?: number; readySince?: number };

const fromInput = (pod: InputPod): PodInfo => {
  if (typeof pod !== 'object' || pod === null) return pod;
  const { startTime, readySince, ...rest } = pod;
  return { ...rest, startTimeS: startTime, readySinceS: readySince };
};

/** Checks the parts of a situation that decide() relies on; the message says what is wrong. */
export function parseSituation(line: string): Situation {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  const situation = value as Partial<Situation> | null;
  if (typeof situation !== 'object' || situation === null || Array.isArray(situation)) throw new Error('a situation must be a JSON object');
  if (typeof situation.spec !== 'object' || situation.spec === null) throw new Error('spec is required');
  if (!Number.isInteger(situation.spec.maxReplicas)) throw new Error('spec.maxReplicas must be an integer');
  if (!Number.isInteger(situation.currentReplicas) || situation.currentReplicas! < 0) throw new Error('currentReplicas must be a whole number');
  if (typeof situation.now !== 'number') throw new Error('now (seconds) is required');
  if (situation.pods !== undefined && !Array.isArray(situation.pods)) throw new Error('pods must be a list');
  if (situation.kubernetesVersion !== undefined) parseKubernetesVersion(situation.kubernetesVersion);
  if (situation.featureGates !== undefined && (typeof situation.featureGates !== 'object' || situation.featureGates === null || Array.isArray(situation.featureGates))) {
    throw new Error('featureGates must be an object, e.g. {"HPAScaleToZero": true}');
  }
  if (situation.scaledToZero !== undefined && typeof situation.scaledToZero !== 'boolean') throw new Error('scaledToZero must be true or false');
  if (situation.pods === undefined) return situation as Situation;
  return { ...situation, pods: (situation.pods as InputPod[]).map(fromInput) } as Situation;
}

export interface ExplainOptions {
  /** Wins over a situation's own kubernetesVersion. */
  kubernetesVersion?: KubernetesVersion;
}

/** One output line for one input line: the decision, or {"error": ...}. */
export function explainLine(line: string, options: ExplainOptions = {}): { output: string; ok: boolean } {
  try {
    const situation = parseSituation(line);
    const version = options.kubernetesVersion ?? situation.kubernetesVersion;
    const { recommendation: _recommendation, conditions: _conditions, removedConditions: _removed, ...decision } = decide({ ...situation, ...(version ? { kubernetesVersion: version } : {}) });
    const metrics = decision.metrics.map(({ error: _error, ...metric }) => metric);
    return { output: JSON.stringify({ ...decision, metrics }), ok: true };
  } catch (error) {
    return { output: JSON.stringify({ error: error instanceof Error ? error.message : String(error) }), ok: false };
  }
}

/** JSON Lines in, one decision per line out, in order; resolves false if any line failed. */
export async function explainStream(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, options: ExplainOptions = {}): Promise<boolean> {
  let allOk = true;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const { output: text, ok } = explainLine(line, options);
    allOk &&= ok;
    output.write(`${text}\n`);
  }
  return allOk;
}
