import { readdirSync, readFileSync } from 'node:fs';

/** Each workspace package and the @podscale packages its package.json lists. */
const packages = readdirSync('packages').map((dir) => {
  const manifest = JSON.parse(readFileSync(`packages/${dir}/package.json`, 'utf8'));
  const uses = Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith('@podscale/')).map((name) => name.slice('@podscale/'.length));
  return { dir, uses };
});

/**
 * `npm run lint` runs this: the import graph must stay a tree of layers (docs/architecture.md).
 * It fails on a cycle between two modules, two folders or two packages; on a package importing
 * what its package.json does not name; on a deployable (service, operator) importing a tool; and
 * on the HPA port importing anything.
 * @type {import('dependency-cruiser').IConfiguration}
 */
export default {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'modules that import each other, directly or through others', from: {}, to: { circular: true } },
    { name: 'no-circular-folders', severity: 'error', scope: 'folder', comment: 'folders (and so packages) that import each other, directly or through others', from: {}, to: { circular: true } },
    {
      name: 'package-names-its-imports',
      severity: 'error',
      comment: "a package imports only what its own package.json lists (node: built-ins aside): the closest package.json decides",
      from: { path: '^packages/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'code-uses-no-dev-dependency',
      severity: 'error',
      comment: "a package's devDependencies are for its tests (packages/<name>/test/): its code (src/) imports only its dependencies",
      from: { path: '^packages/[^/]+/src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'packages-import-each-other-by-name',
      severity: 'error',
      comment: 'one package reaches another through its name (@podscale/<name>/…), never by a relative path',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/', pathNot: '^packages/$1/', dependencyTypes: ['local'] },
    },
    ...packages.map(({ dir, uses }) => ({
      name: `${dir}-uses-only-what-it-lists`,
      severity: 'error',
      comment: `packages/${dir}/package.json lists ${uses.length ? uses.map((name) => `@podscale/${name}`).join(', ') : 'no @podscale package'}: it imports no other`,
      from: { path: `^packages/${dir}/` },
      to: { path: '^packages/', pathNot: `^packages/(${[dir, ...uses].join('|')})/` },
    })),
    {
      name: 'deployable-imports-no-tool',
      severity: 'error',
      comment: 'the service (with @podscale/fastify) and the operator ship in images; the tools (cli: load, lab, kit; kube-local; process; the test broker) only run them',
      from: { path: '^packages/(service|fastify|operator)/src/' },
      to: { path: '^packages/(cli|kube-local|process)/|^packages/kafka/src/broker[.]ts$' },
    },
    {
      name: 'hpa-port-imports-nothing',
      severity: 'error',
      comment: 'the HPA port is pure: no package and no other folder',
      from: { path: '^packages/hpa/src/' },
      to: { pathNot: '^packages/hpa/src/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'cli-commands-import-no-command',
      severity: 'error',
      comment: 'a command module only declares its options and calls one function of a package: what two commands share belongs in that package (argument parsers in packages/cli/src/commands/parse.ts)',
      from: { path: '^packages/cli/src/commands/[^/]+-command[.]ts$' },
      to: { path: '^packages/cli/src/commands/[^/]+-command[.]ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage|[.]tmp|runs)/' },
    combinedDependencies: false,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
