import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '@podscale/cli/kit/manifests.ts';
import { ROOT } from './child.ts';

/** `kubectl kustomize DIR`: exactly what `kubectl apply -k DIR` would send. */
export function kustomizeBuild(dir: string): KubeObject[] {
  const output = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(output).map((document) => document.toJS() as KubeObject);
}

/** Validates an object against the Kubernetes OpenAPI schema of its apiVersion/kind (kubernetes-models). */
export async function validateObject(object: KubeObject): Promise<void> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [undefined, object.apiVersion];
  if (group === OWN_GROUP) return validateOwnResource(object, version!);
  const modulePath =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  const models = (await import(modulePath)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = models[object.kind];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

const OWN_GROUP = 'autoscale.podscale.dev';

/**
 * Our own custom resources against the shipped CRD's openAPIV3Schema (the structural part; its CEL
 * rules are the API server's to check, which test/cluster/kit-apply.test.ts does).
 */
function validateOwnResource(object: KubeObject, version: string): void {
  const crd = parseAllDocuments(readFileSync(join(ROOT, 'k8s/controller/crd.yaml'), 'utf8')).map((document) => document.toJS() as CustomResourceDefinition).find((d) => d.kind === 'CustomResourceDefinition' && d.spec.group === OWN_GROUP && d.spec.names.kind === object.kind);
  const schema = crd?.spec.versions.find((v) => v.name === version)?.schema.openAPIV3Schema;
  if (!schema) throw new Error(`no schema for ${object.apiVersion} ${object.kind} in k8s/controller/crd.yaml`);
  // x-kubernetes-* keywords are the API server's; Ajv is told to ignore unknown keywords.
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  const name = `${object.kind}/${object.metadata.name}`;
  if (!validate(object)) throw new Error(`${name}: ${JSON.stringify(validate.errors)}`);
}

interface CustomResourceDefinition {
  kind: string;
  spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: object } }[] };
}
