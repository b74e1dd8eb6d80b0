/**
 * `npm run lint` runs this: the import graph must stay a tree of layers. A cycle between two
 * modules, or between two folders, fails the lint (see docs/architecture.md).
 * @type {import('dependency-cruiser').IConfiguration}
 */
export default {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'modules that import each other, directly or through others', from: {}, to: { circular: true } },
    { name: 'no-circular-folders', severity: 'error', scope: 'folder', comment: 'folders that import each other, directly or through others', from: {}, to: { circular: true } },
    {
      name: 'deployable-imports-no-tool',
      severity: 'error',
      comment: 'the service (src/*.ts, plugins, routes, metrics, worker) and the operator ship in images; the tools (cli, lab, load, local cluster, kit, the test broker) only run them',
      from: { path: '^src/(operator|plugins|routes|metrics|worker)/|^src/[^/]+[.]ts$', pathNot: '^src/cli[.]ts$' },
      to: { path: '^src/(cli|lab|load|cluster|kit|process)/|^src/cli[.]ts$|^src/kafka/broker[.]ts$' },
    },
    {
      name: 'hpa-port-imports-nothing',
      severity: 'error',
      comment: 'the HPA port is pure: node: built-ins at most, no package and no other folder',
      from: { path: '^src/autoscaler/' },
      to: { pathNot: '^src/autoscaler/|^node:' , dependencyTypesNot: ['core'] },
    },
    {
      name: 'cli-commands-import-no-command',
      severity: 'error',
      comment: 'a command module only declares its options and calls one function of a package: what two commands share belongs in that package (argument parsers in src/cli/parse.ts)',
      from: { path: '^src/cli/[^/]+-command[.]ts$' },
      to: { path: '^src/cli/[^/]+-command[.]ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage|[.]tmp|runs)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
