import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { CertFiles } from './pki.ts';

/** Writes a kubeconfig that authenticates with a client certificate (paths, not inlined data). */
export async function writeKubeconfig(path: string, options: { server: string; caFile: string; user: string; client: CertFiles }): Promise<string> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'podscale', cluster: { server: options.server, 'certificate-authority': options.caFile } }],
    users: [{ name: options.user, user: { 'client-certificate': options.client.cert, 'client-key': options.client.key } }],
    contexts: [{ name: 'podscale', context: { cluster: 'podscale', user: options.user } }],
    'current-context': 'podscale',
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
  return path;
}
