/**
 * The minors and their feature gates (gates.ts) against pkg/features/kube_features.go of each
 * release: defaults, a gate a minor does not know, a locked gate, and what a bad value says.
 */
import { describe, expect, it } from 'vitest';
import { atLeast, DEFAULT_KUBERNETES_VERSION, KUBERNETES_VERSIONS, parseKubernetesVersion, resolveGates } from '@podscale/hpa/gates.ts';

describe('feature gates per minor (kube_features.go)', () => {
  it('the default minor is the pinned control plane, 1.37, the newest the port follows', () => {
    expect(DEFAULT_KUBERNETES_VERSION).toBe('1.37');
    expect(KUBERNETES_VERSIONS.at(-1)).toBe(DEFAULT_KUBERNETES_VERSION);
  });

  it.each([
    ['1.34', { HPAConfigurableTolerance: false, HPAScaleToZero: false, HPAGeneration: false, HPAOptimizedSelectorStore: false, StaleControllerConsistencyHPA: false }],
    ['1.35', { HPAConfigurableTolerance: true, HPAScaleToZero: false, HPAGeneration: false, HPAOptimizedSelectorStore: false, StaleControllerConsistencyHPA: false }],
    ['1.36', { HPAConfigurableTolerance: true, HPAScaleToZero: false, HPAGeneration: false, HPAOptimizedSelectorStore: false, StaleControllerConsistencyHPA: false }],
    ['1.37', { HPAConfigurableTolerance: true, HPAScaleToZero: true, HPAGeneration: true, HPAOptimizedSelectorStore: true, StaleControllerConsistencyHPA: true }],
  ] as const)('%s defaults', (version, expected) => {
    expect(resolveGates(version)).toEqual(expected);
  });

  it('an override wins over the default where the gate exists and is not locked', () => {
    expect(resolveGates('1.34', { HPAConfigurableTolerance: true }).HPAConfigurableTolerance).toBe(true);
    expect(resolveGates('1.36', { HPAScaleToZero: true }).HPAScaleToZero).toBe(true);
    expect(resolveGates('1.37', { HPAScaleToZero: false, HPAGeneration: false })).toMatchObject({ HPAScaleToZero: false, HPAGeneration: false });
  });

  it('a locked gate set to its locked value is accepted; against it, refused with what to do', () => {
    expect(resolveGates('1.37', { HPAConfigurableTolerance: true }).HPAConfigurableTolerance).toBe(true);
    expect(() => resolveGates('1.37', { HPAConfigurableTolerance: false })).toThrow(
      'feature gate HPAConfigurableTolerance is locked to true in Kubernetes 1.37 (GA): remove the override, or set kubernetesVersion to "1.36" or earlier to set it to false',
    );
  });

  it('a gate the minor does not know is refused: one from a later minor says which, an unknown name lists the known ones', () => {
    expect(() => resolveGates('1.36', { StaleControllerConsistencyHPA: true })).toThrow(
      'feature gate StaleControllerConsistencyHPA does not exist in Kubernetes 1.36 (it arrives in 1.37): remove it, or set kubernetesVersion to "1.37" or later',
    );
    expect(() => resolveGates('1.34', { HPAScaleToZer: true } as never)).toThrow('unrecognized feature gate HPAScaleToZer (Kubernetes 1.34 knows HPAConfigurableTolerance, HPAScaleToZero)');
  });

  it('a gate value must be a boolean', () => {
    expect(() => resolveGates('1.37', { HPAScaleToZero: 'true' } as never)).toThrow('feature gate HPAScaleToZero must be true or false; got "true"');
  });
});

describe('minors', () => {
  it('parseKubernetesVersion accepts the four minors as strings and names them otherwise', () => {
    for (const version of KUBERNETES_VERSIONS) expect(parseKubernetesVersion(version)).toBe(version);
    expect(() => parseKubernetesVersion('1.38')).toThrow('kubernetesVersion must be one of "1.34", "1.35", "1.36", "1.37" (a minor, as a string); got "1.38"');
    expect(() => parseKubernetesVersion(1.37)).toThrow(/got 1\.37$/);
    expect(() => resolveGates('v1.37' as never)).toThrow(/got "v1\.37"$/);
  });

  it('atLeast orders the minors', () => {
    expect(atLeast('1.36', '1.35')).toBe(true);
    expect(atLeast('1.35', '1.35')).toBe(true);
    expect(atLeast('1.34', '1.35')).toBe(false);
  });
});
