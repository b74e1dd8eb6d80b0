import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { request } from 'undici';

export const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

export async function scrape(baseUrl: string, accept?: string): Promise<{ contentType: string; body: string }> {
  const response = await request(`${baseUrl}/metrics`, { headers: accept ? { accept } : {} });
  return { contentType: String(response.headers['content-type']), body: await response.body.text() };
}

export async function scrapeParsed(baseUrl: string): Promise<ParsedFamily[]> {
  return parsePrometheusTextFormat((await scrape(baseUrl)).body);
}

/** Value of http_requests_total for one label set, 0 when the series does not exist. */
export function requestCount(families: ParsedFamily[], labels: { method: string; path: string; code: string }): number {
  const family = families.find((f) => f.name === 'http_requests_total');
  const sample = family?.metrics.find((m) => m.labels?.method === labels.method && m.labels.path === labels.path && m.labels.code === labels.code);
  return sample ? Number(sample.value) : 0;
}

export function seriesCount(families: ParsedFamily[], name: string): number {
  return families.find((f) => f.name === name)?.metrics.length ?? 0;
}

/** `promtool check metrics` on a scrape: exit code and what it printed. */
export async function promtoolCheckMetrics(text: string): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'podscale-promtool-'));
  try {
    const file = join(dir, 'metrics.txt');
    await writeFile(file, text);
    // promtool reads the exposition on stdin.
    const result = await promisify(execFile)('sh', ['-c', `promtool check metrics < "${file}"`]).then(
      ({ stdout, stderr }) => ({ ok: true, output: stdout + stderr }),
      (error: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
    );
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
