import { readFileSync } from 'node:fs';

interface PackageJson {
  name: string;
  version: string;
}

/** Set by the service bundle (scripts/build-service.ts), which runs without package.json beside it. */
declare const PODSCALE_PACKAGE: PackageJson | undefined;

// Otherwise the repository's package.json, three levels above packages/service/src/: the product's name and version.
const pkg: PackageJson =
  typeof PODSCALE_PACKAGE === 'undefined' ? (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as PackageJson) : PODSCALE_PACKAGE;

export const SERVICE_NAME = pkg.name;
export const SERVICE_VERSION = pkg.version;
