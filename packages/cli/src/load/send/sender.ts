import type { ErrorKind, StatusClass } from '../stats.ts';

/** How a sender reports the end of each request; one object for the whole run. */
export interface Outcome {
  /** An answer: a response (HTTP, with its status class and serving pod) or an ack (Kafka). */
  complete(dueAt: number, statusClass: StatusClass | undefined, pod: string | undefined): void;
  fail(kind: ErrorKind): void;
}

/**
 * A transport. The engine decides *when* each request leaves and counts what happens; the sender
 * decides *how* it is sent. Its send() must report to `outcome` exactly once per call, and within
 * the run's timeout: the engine waits for every outstanding request before it reports.
 */
export interface Sender {
  /** Request `seq` (1-based, in schedule order), due at `dueAt` (a performance.now() time). */
  send(seq: number, dueAt: number, outcome: Outcome): void;
  /** Called once every request has reported. */
  close(): Promise<void>;
}
