import { fileURLToPath } from 'node:url';

/** The repository the tools run from (packages/cli/src/ is three levels down): its k8s/, Dockerfile and dist/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
