import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { LabController } from '@podscale/cli/lab/controller.ts';
import type { LabDeployment } from '@podscale/cli/lab/deployment.ts';
import type { PodRateSource } from '@podscale/cli/lab/rates.ts';
import type { KubernetesVersion } from '@podscale/hpa/gates.ts';
import type { HpaSpec } from '@podscale/hpa/types.ts';

/** Two long-ready pods at 105 req/s each, scaled by whatever the controller decides. */
function controller(spec: HpaSpec, kubernetesVersion?: KubernetesVersion) {
  const pods = ['a', 'b'].map((name) => ({ name, phase: 'Running', ready: true, startTime: 0, readySince: 0, deleting: false, sampleCpu: async () => undefined }));
  const deployment = {
    pods,
    desired: 2,
    scale(replicas: number) {
      this.desired = replicas;
    },
  };
  const rates = { perPodRate: async () => new Map([['a', 105], ['b', 105]]) } as unknown as PodRateSource;
  const clock = () => 1000;
  return new LabController({ deployment: deployment as unknown as LabDeployment, spec, rates, podsMetricName: 'qps', cpuRequestMilli: 100, syncPeriodS: 15, clock, ...(kubernetesVersion ? { kubernetesVersion } : {}) });
}

describe('the lab controller', () => {
  // 5 % above the target: a scale-up only where behavior.scaleUp.tolerance 0.01 counts (HPAConfigurableTolerance on)
  const spec: HpaSpec = {
    minReplicas: 1,
    maxReplicas: 10,
    metrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '100' } } }],
    behavior: { scaleUp: { tolerance: '0.01' } },
  };

  it('decides as the pinned control plane (1.37) unless told another minor', async () => {
    expect((await controller(spec).sync())?.decision.desiredReplicas).toBe(3);
    expect((await controller(spec, '1.37').sync())?.decision.desiredReplicas).toBe(3);
    expect((await controller(spec, '1.34').sync())?.decision.desiredReplicas).toBe(2);
  });

  it('1.37 reconciles the HPA as soon as it starts; 1.36 waits one sync period (15 s here)', async () => {
    const now = controller(spec, '1.37');
    const later = controller(spec, '1.36');
    const first = once(now, 'sync');
    later.start();
    now.start();
    try {
      await first;
      expect(now.syncs).toHaveLength(1);
      expect(later.syncs).toHaveLength(0);
    } finally {
      now.stop();
      later.stop();
    }
  });
});
