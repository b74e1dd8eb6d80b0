import { readFileSync } from 'node:fs';

interface PackageJson {
  name: string;
  version: string;
}

// package.json sits one level above both src/ and dist/, so one relative URL serves both.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as PackageJson;

export const SERVICE_NAME = pkg.name;
export const SERVICE_VERSION = pkg.version;
