import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { ReplicaState, ReplicaWatcher } from './replicas.ts';

/** A running lab announces its control and Service URLs here, so `podscale load --watch lab` finds it. */
export const LAB_ANNOUNCE_FILE = join(tmpdir(), 'podscale-lab.json');

export interface LabAnnouncement {
  pid: number;
  serviceUrl: string;
  controlUrl: string;
}

export async function readLabAnnouncement(file = LAB_ANNOUNCE_FILE): Promise<LabAnnouncement> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LabAnnouncement;
  } catch {
    throw new Error(`no running lab found (${file} is missing): start one with \`podscale lab\``);
  }
}

/** Polls the lab's control endpoint once a second; the lab's HPA itself only acts every sync period. */
export async function watchLab(controlUrl: string, intervalMs = 1000): Promise<ReplicaWatcher> {
  let state: ReplicaState | undefined;
  const poll = async () => {
    try {
      const response = await request(`${controlUrl}/lab/state`);
      if (response.statusCode === 200) state = (await response.body.json()) as ReplicaState;
      else await response.body.dump();
    } catch {
      // The lab may be restarting or gone; keep the last state rather than failing the load run.
    }
  };
  await poll();
  const timer = setInterval(() => void poll(), intervalMs);
  return {
    current: () => state,
    stop: async () => clearInterval(timer),
  };
}
