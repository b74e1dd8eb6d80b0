import { InvalidArgumentError } from 'commander';
import { parseDuration } from '@podscale/hpa/duration.ts';

/** Commander argument parsers: each turns a bad value into a usage error that names the option. */
export function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('expected a number greater than 0');
  return number;
}

export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('expected a whole number greater than 0');
  return number;
}

export function ratio(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || number > 1) throw new InvalidArgumentError('expected a fraction from 0 to 1, e.g. 0.01 for 1 %');
  return number;
}

export function durationMs(value: string): number {
  try {
    const seconds = parseDuration(value);
    if (seconds <= 0) throw new Error('must be longer than 0');
    return seconds * 1000;
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function header(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError('expected "Name: value"');
  return { ...previous, [value.slice(0, colon).trim().toLowerCase()]: value.slice(colon + 1).trim() };
}

export function weights(value: string): number[] {
  return value.split(',').map((part) => {
    const weight = Number(part);
    if (!Number.isFinite(weight) || weight <= 0) throw new InvalidArgumentError(`weight "${part}" must be a number greater than 0`);
    return weight;
  });
}
