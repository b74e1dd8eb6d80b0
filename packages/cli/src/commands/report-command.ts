import { Command } from 'commander';
import { renderReportFile } from '../load/report.ts';

export function reportCommand(): Command {
  return new Command('report')
    .description('render the HTML report of a run saved with --out')
    .argument('<run.json>', 'a file written by podscale load --out')
    .requiredOption('-o, --out <file>', 'where to write the HTML report')
    .action((input: string, flags: { out: string }) => renderReportFile(input, flags.out));
}
