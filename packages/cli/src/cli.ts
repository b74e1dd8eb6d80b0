#!/usr/bin/env node
import { Command } from 'commander';
import { clusterCommand } from './commands/cluster-command.ts';
import { controllerCommand } from './commands/controller-command.ts';
import { hpaCommand } from './commands/hpa-command.ts';
import { labCommand } from './commands/lab-command.ts';
import { loadCommand } from './commands/load-command.ts';
import { policyCommand } from './commands/policy-command.ts';
import { reportCommand } from './commands/report-command.ts';
import { SERVICE_VERSION } from '@podscale/service/version.ts';

const program = new Command('podscale')
  .description('load-test, explain and watch the autoscaling of the podscale service')
  .version(SERVICE_VERSION)
  .showHelpAfterError()
  .addCommand(loadCommand())
  .addCommand(reportCommand())
  .addCommand(hpaCommand())
  .addCommand(labCommand())
  .addCommand(clusterCommand())
  .addCommand(policyCommand())
  .addCommand(controllerCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`podscale: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
// Every command has finished its work (long-running ones return only after a signal). Exit here
// rather than when the event loop drains: after `lab --control-plane kubernetes --out …` Node was
// seen spinning at 100 % CPU in its exit cleanup (Environment::CleanupHandles waiting on a request
// that never completed, with the cluster already stopped). stdout and stderr to a file, pipe or
// terminal are written synchronously on Linux, so nothing printed is lost.
process.exit();
