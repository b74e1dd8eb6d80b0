/**
 * The RBAC of k8s/controller on a real kube-apiserver (v1.37), asked as the podscale-controller
 * ServiceAccount: it may do each thing the controller does and nothing else that was tried, so
 * k8s/controller/rbac.yaml stays "exactly the verbs the controller uses".
 */
import { describe, expect, it } from 'vitest';
import { k, SA, skip, useOperatorCluster } from './cluster-setup.ts';

useOperatorCluster({ forControllers: false });

describe.skipIf(skip)('RBAC of the podscale-controller ServiceAccount', () => {
  const can = async (args: string[]) => {
    const [verb, resource, , namespace] = args as [string, string, string, string];
    if (/(^|\.)metrics\.k8s\.io$/.test(resource)) {
      // The metrics APIs are not served here (no adapter, no metrics-server), so kubectl cannot
      // resolve their names through discovery: ask the authorizer with the SubjectAccessReview
      // that kubectl auth can-i sends.
      const [plural, ...group] = resource.split('.');
      const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: SA, groups: ['system:serviceaccounts', 'system:serviceaccounts:podscale', 'system:authenticated'], resourceAttributes: { verb, group: group.join('.'), resource: plural, namespace } } };
      const { stdout } = await k(['create', '-o', 'json', '-f', '-'], JSON.stringify(review));
      return (JSON.parse(stdout) as { status: { allowed?: boolean } }).status.allowed ? 'yes' : 'no';
    }
    try {
      await k(['auth', 'can-i', `--as=${SA}`, ...args]);
      return 'yes';
    } catch {
      return 'no';
    }
  };
  const allowed = [
    'get autoscalerpolicies.autoscale.podscale.dev -n crd',
    'list autoscalerpolicies.autoscale.podscale.dev -A',
    'watch autoscalerpolicies.autoscale.podscale.dev -A',
    'patch autoscalerpolicies.autoscale.podscale.dev --subresource=status -n crd',
    'list deployments.apps -A',
    'watch deployments.apps -A',
    'get deployments.apps --subresource=scale -n crd',
    'patch deployments.apps --subresource=scale -n crd',
    'list pods -A',
    'watch pods -A',
    'list horizontalpodautoscalers.autoscaling -A',
    'watch horizontalpodautoscalers.autoscaling -A',
    'list pods.metrics.k8s.io -n crd',
    'get pods.custom.metrics.k8s.io -n crd',
    'create events -n crd',
    'create leases.coordination.k8s.io -n podscale',
    'get leases.coordination.k8s.io/podscale-controller -n podscale',
    'update leases.coordination.k8s.io/podscale-controller -n podscale',
  ];
  const denied = [
    'delete deployments.apps -n crd',
    'patch deployments.apps -n crd',
    'update deployments.apps --subresource=scale -n crd',
    'get secrets -n crd',
    'list secrets -A',
    'patch pods -n crd',
    'delete pods -n crd',
    'update autoscalerpolicies.autoscale.podscale.dev -n crd',
    'patch autoscalerpolicies.autoscale.podscale.dev -n crd',
    'delete autoscalerpolicies.autoscale.podscale.dev -n crd',
    'create leases.coordination.k8s.io -n kube-system',
    'update leases.coordination.k8s.io/kube-controller-manager -n podscale',
    'delete leases.coordination.k8s.io/podscale-controller -n podscale',
    'create horizontalpodautoscalers.autoscaling -n crd',
    'patch events -n crd',
  ];
  it('can do each thing the controller does', async () => {
    const answers = await Promise.all(allowed.map(async (check) => [check, await can(check.split(' '))]));
    expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(allowed.map((check) => [check, 'yes'])));
  });
  it('cannot do anything else that was tried', async () => {
    const answers = await Promise.all(denied.map(async (check) => [check, await can(check.split(' '))]));
    expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(denied.map((check) => [check, 'no'])));
  });
});
