/**
 * A route option's hooks as a list, whichever form Fastify was given them in (none, one, several):
 * the plugins that add a per-route hook at registration (metrics, overload) extend it.
 */
export function hookList<Hook>(hooks: Hook | Hook[] | undefined): Hook[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}
