import type { Cluster } from '@podscale/kube-local/cluster.ts';
import { until } from '@podscale/process/net.ts';

/*
 * One failing-liveness scenario for every runtime that runs podscale's pods: the lab (LabPod,
 * packages/cli/test/lab/pod.test.ts), the node agent and the real node's kubelet. The service itself is healthy;
 * its liveness probe asks for a route that does not exist (404), three times a second apart.
 */

export const LIVENESS_POD = 'liveness-fails';

export function livenessPod(image: string) {
  const probe = (path: string, failureThreshold: number) => ({ httpGet: { path, port: 8080 }, periodSeconds: 1, failureThreshold });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: LIVENESS_POD, namespace: 'default', labels: { test: LIVENESS_POD } },
    spec: {
      terminationGracePeriodSeconds: 10,
      containers: [
        {
          name: 'podscale',
          image,
          imagePullPolicy: 'IfNotPresent',
          // A short drain, so that the restart's SIGTERM is answered well within the grace period.
          env: [
            { name: 'PORT', value: '8080' },
            { name: 'SHUTDOWN_DELAY_MS', value: '200' },
          ],
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: probe('/readyz', 3),
          livenessProbe: probe('/no-such-route', 3),
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          securityContext: { runAsUser: 10001, runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
}

export interface LivenessOutcome {
  restartCount: number;
  lastTerminated: { exitCode?: number; reason?: string } | undefined;
  ready: boolean;
  /** From the pod's creation to Ready again after its first restart. */
  seconds: number;
}

interface ContainerStatus {
  restartCount: number;
  ready: boolean;
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
}

/** Applies the pod, waits until its container was restarted once and is Ready again, deletes it. */
export async function runLivenessScenario(cluster: Cluster, image: string): Promise<LivenessOutcome> {
  const started = performance.now();
  await cluster.kubectl(['apply', '-f', '-'], JSON.stringify(livenessPod(image)));
  let status: ContainerStatus | undefined;
  await until(
    async () => {
      const { stdout } = await cluster.kubectl(['get', 'pod', '-n', 'default', LIVENESS_POD, '-o', 'jsonpath={.status.containerStatuses[0]}']);
      status = stdout ? (JSON.parse(stdout) as ContainerStatus) : undefined;
      return (status?.restartCount ?? 0) >= 1 && status?.ready === true;
    },
    { timeoutMs: 90_000, intervalMs: 250, what: `${LIVENESS_POD} restarted and Ready again` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last status ${JSON.stringify(status)}`);
  });
  const outcome = { restartCount: status!.restartCount, lastTerminated: status!.lastState?.terminated, ready: status!.ready, seconds: Math.round((performance.now() - started) / 100) / 10 };
  await cluster.kubectl(['delete', 'pod', '-n', 'default', LIVENESS_POD, '--wait=true', '--timeout=60s']);
  return outcome;
}
