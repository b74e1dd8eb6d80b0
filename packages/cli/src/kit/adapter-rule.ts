import { parse } from 'yaml';
import { parseDuration } from '@podscale/hpa/duration.ts';

/** One rule of prometheus-adapter's configuration (the parts podscale's rule uses). */
export interface AdapterRule {
  seriesQuery: string;
  resources: { overrides: Record<string, { resource: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}

export function parseAdapterConfig(text: string): AdapterRule[] {
  const config = parse(text) as { rules?: AdapterRule[] };
  if (!Array.isArray(config.rules) || config.rules.length === 0) throw new Error('adapter config has no rules');
  return config.rules;
}

/** The metric name the adapter publishes for a series: name.matches → name.as (Go regexp syntax). */
export function publishedMetricName(rule: AdapterRule, series: string): string | undefined {
  const pattern = new RegExp(rule.name.matches);
  if (!pattern.test(series)) return undefined;
  // Go's ${1} and JavaScript's $1 name the same capture group.
  return series.replace(pattern, rule.name.as.replace(/\$\{(\d+)\}/g, '$$$1'));
}

/** The Prometheus label that the rule maps to a Kubernetes resource (e.g. pod → "pod"). */
export function labelForResource(rule: AdapterRule, resource: string): string {
  const entry = Object.entries(rule.resources.overrides).find(([, value]) => value.resource === resource);
  if (!entry) throw new Error(`adapter rule maps no label to the ${resource} resource`);
  return entry[0];
}

export interface PodsQuery {
  series: string;
  namespace: string;
  pods: string[];
}

/**
 * Renders metricsQuery for a Pods metric the way prometheus-adapter's metricsQuery.Build does
 * (pkg/naming/metrics_query.go): LabelMatchers is the namespace matcher, then the pod matcher
 * (`=` for one pod, `=~"a|b"` for several), joined by ","; GroupBy is the pod label.
 */
export function renderPodsQuery(rule: AdapterRule, query: PodsQuery): string {
  const namespaceLabel = labelForResource(rule, 'namespace');
  const podLabel = labelForResource(rule, 'pod');
  const podMatcher = query.pods.length === 1 ? `${podLabel}=${goQuote(query.pods[0]!)}` : `${podLabel}=~${goQuote(query.pods.join('|'))}`;
  const fields: Record<string, string> = {
    Series: query.series,
    LabelMatchers: [`${namespaceLabel}=${goQuote(query.namespace)}`, podMatcher].join(','),
    GroupBy: podLabel,
  };
  // The adapter's template uses << >> delimiters; the rule may use only these three fields.
  return rule.metricsQuery.replace(/<<\s*\.(\w+)\s*>>/g, (action: string, field: string) => {
    const value = fields[field];
    if (value === undefined) throw new Error(`metricsQuery uses ${action}, which podscale cannot render`);
    return value;
  });
}

/** Go's %q for the characters Kubernetes names and label values can hold. */
function goQuote(value: string): string {
  return JSON.stringify(value);
}

/** The range of the rate() in metricsQuery, in seconds. */
export function rateWindowSeconds(rule: AdapterRule): number {
  const match = /rate\([^[]*\[([0-9a-z]+)\]\)/.exec(rule.metricsQuery);
  if (!match) throw new Error(`metricsQuery has no rate(...[window]): ${rule.metricsQuery}`);
  return parseDuration(match[1]!);
}
