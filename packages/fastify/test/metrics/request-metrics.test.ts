import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, RequestMetrics } from '@podscale/fastify/metrics/request-metrics.ts';

describe('RequestMetrics', () => {
  it('puts an observation on a bucket bound into that bucket (le is inclusive)', () => {
    const metrics = new RequestMetrics();
    metrics.route('/x').record('GET', 200, 0.005);
    const [series] = metrics.series();
    expect(series!.bucketCounts[DURATION_BUCKETS.indexOf(0.005)]).toBe(1);
  });

  it('puts observations above the largest bound into +Inf', () => {
    const metrics = new RequestMetrics();
    metrics.route('/x').record('GET', 200, 60);
    expect(metrics.series()[0]!.bucketCounts[DURATION_BUCKETS.length]).toBe(1);
  });

  it('creates one series per method and status code, reused afterwards', () => {
    const metrics = new RequestMetrics();
    const route = metrics.route('/x');
    for (let i = 0; i < 5; i += 1) route.record('GET', 200, 0.001);
    route.record('GET', 500, 0.001);
    route.record('POST', 200, 0.001);
    expect(metrics.series().map((s) => [s.labels.method, s.labels.code, s.count])).toEqual([
      ['GET', '200', 5],
      ['GET', '500', 1],
      ['POST', '200', 1],
    ]);
    expect(metrics.route('/x')).toBe(route);
  });

  it('folds rare methods into OTHER', () => {
    const metrics = new RequestMetrics();
    for (const method of ['PROPFIND', 'MKCOL', 'PURGE', 'PROPFIND']) metrics.unmatched.record(method, 404, 0.001);
    expect(metrics.series().map((s) => [s.labels.method, s.count])).toEqual([['OTHER', 4]]);
  });
});
