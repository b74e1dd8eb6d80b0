import { Command, Option } from 'commander';
import { loadMain } from '../load/main.ts';
import type { LoadFlags } from '../load/plan.ts';
import { durationMs, header, positiveInteger, positiveNumber, ratio, weights } from './parse.ts';

export function loadCommand(): Command {
  return new Command('load')
    .description('open-model load: requests (or Kafka messages) leave on schedule, latency counts from each due time')
    .argument('<url...>', 'target URLs (several: spread by --weights), or one kafka://HOST:PORT[,HOST:PORT]/TOPIC to produce to')
    .option('-r, --rate <rps>', 'constant arrival rate, requests per second', positiveNumber, 50)
    .addOption(new Option('-d, --duration <time>', 'how long to send at --rate (e.g. 30s, 2m)').argParser(durationMs).default(30_000, '30s'))
    .option('-s, --stages <list>', 'ramps instead of --rate/--duration: DURATION:RATE,... e.g. 30s:50,2m:400,30s:0')
    .option('--max-in-flight <n>', 'outstanding requests at most; a request due beyond it is dropped', positiveInteger, 1000)
    .option('-c, --connections <n>', 'connections per origin', positiveInteger, 64)
    .option('--max-requests-per-connection <n>', 'reconnect after this many requests, so new pods behind a Service get traffic (default: never)', positiveInteger)
    .addOption(new Option('-t, --timeout <time>', 'per-request timeout').argParser(durationMs).default(10_000, '10s'))
    .option('-X, --method <method>', 'HTTP method', 'GET')
    .addOption(new Option('-H, --header <header>', 'request header "Name: value" (repeatable)').argParser(header).default({}, 'none'))
    .option('--body <text>', 'request body (kafka://: message value; default the message number)')
    .option('--body-file <path>', 'request body (or message value) from a file')
    .option('-w, --weights <list>', 'relative share of each URL, e.g. 3,1', weights)
    .option('--watch <target>', 'follow replicas: deployment/NAME (kubeconfig) or lab')
    .option('-n, --namespace <ns>', 'namespace for --watch deployment/NAME', 'default')
    .option('-o, --out <file>', 'write the time series and summary as JSON')
    .option('--report <file>', 'write a self-contained HTML report with plots')
    .option('--max-error-rate <ratio>', 'exit 2 if failed/offered exceeds this (e.g. 0.01)', ratio)
    .addOption(new Option('--max-p99 <time>', 'exit 2 if the overall p99 latency exceeds this (e.g. 250ms)').argParser(durationMs))
    .option('--plain', 'one line per second even on a terminal')
    .option('-g, --group <id>', 'kafka://: follow this consumer group\'s lag and members every second')
    .option('--key <text>', 'kafka://: message key, {seq} replaced by the message number (default none: round robin over partitions)')
    .option('--create-topic <partitions>', 'kafka://: create the topic with this many partitions if it does not exist (default: fail)', positiveInteger)
    .action(async (urls: string[], flags: LoadFlags, command: Command) => {
      const given = new Set(command.options.map((option) => option.attributeName()).filter((name) => command.getOptionValueSource(name) === 'cli'));
      const refuse = (reason: string) => command.error(`error: ${reason}`, { exitCode: 1 });
      process.exitCode = await loadMain(urls, flags, { given, refuse, stdout: process.stdout, env: process.env });
    });
}
