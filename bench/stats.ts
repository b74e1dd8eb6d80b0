/**
 * The bench reports ratios to a baseline measured in the same run, one per round, as their median
 * and their spread (min–max): on a shared, noisy machine a single ratio says too little.
 */
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** A ratio measured once per round: its median and its spread. */
export interface Ratio {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}
export const ratio = (values: number[]): Ratio => ({ median: round(median(values)), min: round(Math.min(...values)), max: round(Math.max(...values)), rounds: values.map((v) => round(v, 3)) });
export const perRound = (ours: number[], baseline: number[]): Ratio => ratio(ours.map((value, i) => value / baseline[i]!));
export const show = (r: Ratio) => (r.rounds.length > 1 ? `${r.median}× (${r.min}–${r.max})` : `${r.median}×`);
