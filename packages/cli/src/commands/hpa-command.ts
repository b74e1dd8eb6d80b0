import { Command } from 'commander';
import { explainStream } from '@podscale/hpa/explain.ts';

export function hpaCommand(): Command {
  const hpa = new Command('hpa').description('the HorizontalPodAutoscaler algorithm, as kube-controller-manager runs it');
  hpa
    .command('explain')
    .description('read HPA situations as JSON Lines on stdin; write what the HPA would decide, and why, one line each')
    .action(async () => {
      const ok = await explainStream(process.stdin, process.stdout);
      process.exitCode = ok ? 0 : 1;
    });
  return hpa;
}
