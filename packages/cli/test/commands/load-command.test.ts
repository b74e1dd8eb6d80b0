import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '@podscale/cli/load/record.ts';
import { renderReport } from '@podscale/cli/load/report.ts';
import { runCli, spawnService, type StartedService } from '../../../../test/helpers/child.ts';

let service: StartedService;
let dir: string;
beforeAll(async () => {
  service = await spawnService({ SHUTDOWN_DELAY_MS: '0' });
  dir = await mkdtemp(join(tmpdir(), 'podscale-cli-'));
});
afterAll(async () => {
  await service.process.stop();
  await rm(dir, { recursive: true, force: true });
});

function podscale(args: string[], onLine?: (line: string, child: ChildProcess) => void) {
  return runCli(args, onLine ? { onLine } : {});
}

describe('podscale load', () => {
  it('prints one line per second, a summary, and writes JSON and HTML that round-trip', async () => {
    const out = join(dir, 'run.json');
    const report = join(dir, 'report.html');
    const run = await podscale(['load', `${service.url}/api/delay?ms=1`, '--rate', '100', '--duration', '2s', '--out', out, '--report', report]);
    expect(run.code).toBe(0);
    // The first line comes when the 1 s interval timer fires: on a busy machine (a CI run, beside the
    // cluster tests) up to a few hundred ms late, and its per-second rates are over what it covered.
    expect(run.stdout).toMatch(/^t=1\.[0-3]s target=100\/s offered=(9[5-9]|10[0-5])\/s achieved=\d+\/s p50=.* pods=child-pod:\d+$/m);
    expect(run.stdout).toMatch(/^done after 2\.\ds: offered 200 \(100\/s\)/m);
    const record = JSON.parse(await readFile(out, 'utf8')) as RunRecord;
    expect(record.summary.counts.offered).toBe(200);
    expect(record.timeline.length).toBeGreaterThanOrEqual(2);
    expect(record.options.stages).toEqual([{ durationS: 2, from: 100, to: 100 }]);
    // The HTML written by the run is what the JSON alone renders again.
    const html = await readFile(report, 'utf8');
    expect(renderReport(record)).toBe(html);
    expect(html).toContain('<title>podscale load report</title>');
    expect(html).toContain('"label":"achieved"');
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/<script[^>]+src=/);

    const again = join(dir, 'again.html');
    expect((await podscale(['report', out, '--out', again])).code).toBe(0);
    expect(await readFile(again, 'utf8')).toBe(html);
  });

  it('exits 2 when a threshold is violated, 0 when met', async () => {
    const slow = await podscale(['load', `${service.url}/api/delay?ms=50`, '--rate', '20', '--duration', '1s', '--max-p99', '10ms']);
    expect(slow.code).toBe(2);
    expect(slow.stdout).toMatch(/threshold max-p99-ms failed: [\d.]+ > 10/);
    const failing = await podscale(['load', `${service.url}/nope`, '--rate', '20', '--duration', '1s', '--max-error-rate', '0.01']);
    expect(failing.code).toBe(2);
    expect(failing.stdout).toMatch(/threshold max-error-rate failed: 1 > 0.01/);
    const fine = await podscale(['load', `${service.url}/`, '--rate', '20', '--duration', '1s', '--max-error-rate', '0', '--max-p99', '1s']);
    expect(fine.code).toBe(0);
  });

  it.each([
    [['load'], /missing required argument 'url'/],
    [['load', 'not a url'], /"not a url" is not a URL/],
    [['load', 'http://127.0.0.1:1/', '--rate', '-5'], /--rate <rps>' argument '-5' is invalid/],
    [['load', 'http://127.0.0.1:1/', '--stages', '30s'], /--stages: stage "30s" must be DURATION:RATE/],
    [['load', 'http://127.0.0.1:1/', '--max-error-rate', '5'], /expected a fraction from 0 to 1/],
    [['load', 'http://127.0.0.1:1/', '--watch', 'pod/x'], /--watch takes deployment\/NAME or lab/],
  ])('exits 1 with a clear message on usage errors: %j', async (args, message) => {
    const run = await podscale(args);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
  });

  it('Ctrl-C stops the run, prints the summary and still writes the files', async () => {
    const out = join(dir, 'interrupted.json');
    let signalled = false;
    const rate = 50;
    const durationS = 60;
    const run = await podscale(['load', `${service.url}/`, '--rate', String(rate), '--duration', `${durationS}s`, '--out', out], (line, child) => {
      if (!signalled && line.startsWith('t=1.')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    expect(run.code).toBe(0);
    // Sent after the first interval line; how soon it lands depends on the machine, not the run.
    const stoppedAfterS = Number(/^interrupted after (\d+\.\d)s/m.exec(run.stdout)?.[1]);
    expect(stoppedAfterS).toBeGreaterThanOrEqual(1);
    expect(stoppedAfterS).toBeLessThan(durationS);
    const record = JSON.parse(await readFile(out, 'utf8')) as RunRecord;
    expect(record.summary.stoppedBy).toBe('interrupted');
    expect(record.summary.counts.offered).toBeLessThanOrEqual(Math.ceil(rate * record.summary.durationS));
  });
});
