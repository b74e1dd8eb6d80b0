import { readFile, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { RunRecord } from '../load/record.ts';
import { renderReport } from '../load/report.ts';

export function reportCommand(): Command {
  return new Command('report')
    .description('render the HTML report of a run saved with --out')
    .argument('<run.json>', 'a file written by podscale load --out')
    .requiredOption('-o, --out <file>', 'where to write the HTML report')
    .action(async (input: string, flags: { out: string }) => {
      const record = JSON.parse(await readFile(input, 'utf8')) as RunRecord;
      await writeFile(flags.out, renderReport(record));
    });
}
