import { Command } from 'commander';
import { CONTROLLER_HELP } from '@podscale/operator/options.ts';

export function controllerCommand(): Command {
  return new Command('controller')
    .description('run the AutoScalerPolicy controller (autoscale.podscale.dev/v1); see podscale controller --help')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[flags...]')
    .addHelpText('after', CONTROLLER_HELP)
    .action(async (flags: string[]) => {
      const { controllerMain } = await import('@podscale/operator/main.ts');
      await controllerMain(flags);
    });
}
