import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../repo-root.ts';

/** The kit: the repository's k8s/ folder. */
export const SHIPPED_KIT_DIR = join(REPO_ROOT, 'k8s');

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  configMapGenerator?: { name: string; files?: string[] }[];
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'APIService', 'CustomResourceDefinition']);

/**
 * Loads a kustomization the way `kubectl kustomize` builds the ones podscale ships: resources
 * (files and folders), configMapGenerator files, and the namespace field. Name-suffix hashes are
 * left out; the kit's tests check that this agrees with kubectl's own build.
 */
export function loadKustomization(dir: string): KubeObject[] {
  const kustomization = parseYamlFile<Kustomization>(join(dir, 'kustomization.yaml'));
  const objects: KubeObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = resolve(dir, resource);
    objects.push(...(statSync(path).isDirectory() ? loadKustomization(path) : parseYamlDocuments<KubeObject>(path)));
  }
  for (const generator of kustomization.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const file of generator.files ?? []) {
      const [key, source] = file.includes('=') ? (file.split('=', 2) as [string, string]) : [file.split('/').at(-1)!, file];
      data[key] = readFileSync(resolve(dir, source), 'utf8');
    }
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data });
  }
  if (kustomization.namespace !== undefined) {
    for (const object of objects) if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = kustomization.namespace;
  }
  return objects;
}

export function parseYamlFile<T>(path: string): T {
  const [document] = parseAllDocuments(readFileSync(path, 'utf8'));
  if (!document || document.errors.length > 0) throw new Error(`${path}: ${document?.errors.join('; ') ?? 'empty file'}`);
  return document.toJS() as T;
}

function parseYamlDocuments<T>(path: string): T[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors.join('; ')}`);
    const value = document.toJS() as T | null;
    return value === null ? [] : [value];
  });
}

/** Every kustomization folder under dir (dir included), for tools that build each one. */
export function kustomizationDirs(dir: string): string[] {
  const found = statSync(join(dir, 'kustomization.yaml'), { throwIfNoEntry: false }) ? [dir] : [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...kustomizationDirs(join(dir, entry.name)));
  }
  return found;
}

export function findObject<T extends KubeObject>(objects: KubeObject[], kind: string, name?: string): T {
  const found = objects.find((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` named ${name}` : ''} in the kit`);
  return found as T;
}
