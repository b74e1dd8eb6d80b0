/**
 * Upstream's controller tests around zero replicas, translated (harness:
 * horizontal-controller-fixtures.ts): the v1.34.4 cases whose outcome 1.36 changed, the tests
 * 1.36.3 added for its scale-to-zero rework (each run there with HPAScaleToZero on and off), and
 * 1.37.2's TestReplicaLimits shortcut rows and TestScaleToZeroBehavior's gate-off row. Every case
 * runs on every minor with the gate at its default, on and off: 1.34 and 1.35 do not read the gate
 * (nor know ScaledToZero), so one expectation holds for them; from 1.36 the gate decides.
 */
import { describe, it } from 'vitest';
import { KUBERNETES_VERSIONS } from '@podscale/hpa/gates.ts';
import { check, cheddar, externalMetric, objectMetric, ones, type ControllerCase, type Expected } from './horizontal-controller-fixtures.ts';

type ZeroCase = Omit<ControllerCase, keyof Expected> & { before136: Expected; gateOn: Expected; gateOff: Expected };

const disabled = (outcome: 'untouched' | 'removed'): Expected => ({ expectedDesiredReplicas: 0, expectedConditions: { ScalingActive: 'ScalingDisabled' }, scaledToZeroOutcome: outcome });
const scaledUp = (replicas: number, limited = 'DesiredWithinRange'): Expected => ({
  expectedDesiredReplicas: replicas,
  expectedConditions: { ScalingActive: 'ValidMetricFound', ScalingLimited: limited },
  scaledToZeroOutcome: 'NotScaledToZero',
});
const rescaled = (replicas: number, outcome: Expected['scaledToZeroOutcome']): Expected => ({ expectedDesiredReplicas: replicas, scaledToZeroOutcome: outcome });

const zeroSpec = { minReplicas: 0, maxReplicas: 6, specReplicas: 0, statusReplicas: 0 };

/** From 0 replicas on an Object Value metric; with the gate off 1.36+ always disables (and drops the condition). */
const fromZeroOnObject = (name: string, value: string, level: string, scaledToZero: boolean, before136: Expected, gateOn: Expected): ZeroCase => ({
  name,
  ...zeroSpec,
  metricsTarget: [objectMetric({ type: 'Value', value })],
  observed: { object: { qps: level } },
  scaledToZero,
  before136,
  gateOn,
  gateOff: disabled('removed'),
});

/** 5 → 0 on a metric of 0 with minReplicas 0: ScaledToZero=True only with an Object/External metric and the gate. */
const downToZero = (name: string, metric: ControllerCase['metricsTarget'], observed: ControllerCase['observed'], extra: Partial<ControllerCase> = {}): ZeroCase => ({
  name,
  minReplicas: 0,
  maxReplicas: 6,
  specReplicas: 5,
  statusReplicas: 5,
  metricsTarget: metric,
  observed,
  recommendations: [],
  ...extra,
  before136: rescaled(0, 'untouched'),
  gateOn: rescaled(0, 'ScaledToZero'),
  gateOff: rescaled(0, 'removed'),
});

/** A rescale that has nothing to do with zero (3 → 5 on CPU): ScaledToZero False with the gate, removed without it. */
const rescaleNotToZero = (name: string, fixture: Partial<ControllerCase>, replicas: number): ZeroCase => ({
  name,
  minReplicas: 1,
  maxReplicas: 6,
  specReplicas: 3,
  statusReplicas: 3,
  ...fixture,
  before136: rescaled(replicas, 'untouched'),
  gateOn: rescaled(replicas, 'NotScaledToZero'),
  gateOff: rescaled(replicas, 'removed'),
});
const cpuScaleUp = { CPUTarget: 30, reportedLevels: [300, 500, 700], reportedCPURequests: ones(3) };

const cases: ZeroCase[] = [
  fromZeroOnObject('TestScaleUpFromZeroCMObject (1.36: from a zero the HPA made, initial ScaledToZero=True)', '15.0', '20000m', true, rescaled(2, 'untouched'), scaledUp(2)),
  fromZeroOnObject('TestScaleUpFromZeroIgnoresToleranceCMObject (1.36: initial ScaledToZero=True)', '1.0', '1000m', true, rescaled(1, 'untouched'), scaledUp(1)),
  fromZeroOnObject('TestScaleUpFromZeroWithoutCondition (1.36; 1.34: TestScaleUpFromZeroCMObject, which scaled)', '15.0', '20000m', false, rescaled(2, 'untouched'), disabled('untouched')),
  {
    ...fromZeroOnObject('TestScaleUpFromZeroWhenMinReplicasIncreased (1.36): raised to minReplicas after normalization', '15000m', '10000m', true, disabled('untouched'), scaledUp(2, 'TooFewReplicas')),
    minReplicas: 2,
  },
  {
    name: 'TestScaleUpFromZeroOneMetricInvalid (1.36: no Object/External metric, so no scale from zero)',
    ...zeroSpec,
    CPUTarget: 30,
    metricsTarget: [cheddar],
    reportedLevels: [300, 400, 500],
    reportedCPURequests: ones(3),
    recommendations: [],
    before136: rescaled(4, 'untouched'),
    gateOn: disabled('untouched'),
    gateOff: disabled('removed'),
  },
  {
    name: 'TestManualScaleToZeroDisablesHPA (1.36)',
    ...zeroSpec,
    minReplicas: 1,
    CPUTarget: 50,
    reportedLevels: [],
    reportedCPURequests: [],
    before136: disabled('untouched'),
    gateOn: disabled('untouched'),
    gateOff: disabled('removed'),
  },
  downToZero('TestScaleDownToZeroCMObject (1.36: ScaledToZero=True with the gate)', [objectMetric({ type: 'Value', value: '20.0' })], { object: { qps: '0' } }, { reportedCPURequests: ones(5) }),
  downToZero('TestScaleDownToZeroCMExternal (1.36: ScaledToZero=True with the gate)', [externalMetric({ type: 'Value', value: '14400m' })], { external: { qps: ['0'] } }),
  rescaleNotToZero('TestScaledToZeroConditionHandledOnNormalRescale (1.36): a stale ScaledToZero=True is rewritten or removed', { ...cpuScaleUp, scaledToZero: true }, 5),
  rescaleNotToZero('TestScaleToZeroBehavior "no ScaledToZero condition when HPAScaleToZero disabled" (1.37)', cpuScaleUp, 5),
  rescaleNotToZero(
    'TestReplicaLimits "scale up to min immediately even with recent scale time" (1.37): the shortcut, no metrics read',
    { minReplicas: 2, specReplicas: 1, statusReplicas: 1, reportedLevels: [0, 0, 0, 0], reportedCPURequests: ones(4) },
    2,
  ),
  rescaleNotToZero(
    'TestReplicaLimits "scale down to max immediately even with recent scale time" (1.37): the shortcut, no metrics read',
    { minReplicas: 2, maxReplicas: 5, specReplicas: 6, statusReplicas: 6, CPUTarget: 50, reportedLevels: [8000, 9500, 1000], reportedCPURequests: ['0.9', '1.0', '1.1'] },
    5,
  ),
];

/** HPAScaleToZero's default where the controller reads it (kube_features.go): alpha, off in 1.36; beta, on in 1.37. */
const SCALE_TO_ZERO_DEFAULT = { '1.36': false, '1.37': true } as const;
const GATE_SETTINGS = [undefined, true, false] as const;

describe.each(KUBERNETES_VERSIONS)('horizontal_test.go zero-replica cases (v1.34.4, v1.36.3, v1.37.2), on %s', (version) => {
  const runs = cases.flatMap((tc) => GATE_SETTINGS.map((gate) => [`${tc.name}, HPAScaleToZero ${gate ?? 'default'}`, tc, gate] as const));
  it.each(runs)('%s', (_name, tc, gate) => {
    const { before136, gateOn, gateOff, ...rest } = tc;
    const expected = version === '1.34' || version === '1.35' ? before136 : (gate ?? SCALE_TO_ZERO_DEFAULT[version]) ? gateOn : gateOff;
    const controllerCase: ControllerCase = { ...rest, ...expected, ...(gate === undefined ? {} : { featureGates: { HPAScaleToZero: gate } }) };
    check(controllerCase, version, expected);
  });
});
