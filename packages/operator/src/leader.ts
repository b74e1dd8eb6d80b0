/**
 * Leader election on a coordination.k8s.io/v1 Lease, client-go's algorithm (leaderelection.go):
 * try to acquire every retryPeriod (jittered); a lease held by another is taken over only once it
 * has not changed for leaseDuration, measured on this process's clock from when the record was
 * last seen to change (so clock skew between replicas does not matter); the leader renews every
 * retryPeriod and steps down if it could not renew within renewDeadline; release() on shutdown
 * empties holderIdentity so another replica takes over at its next try instead of after expiry.
 * Writes use the resourceVersion read, so two candidates cannot both win one round.
 */
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { messageOf } from './errors.ts';

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log: Logger;
  now?: () => number;
}

const statusOf = (error: unknown): number | undefined => (error as { code?: number }).code;
const time = (value: unknown): number | undefined => (value == null ? undefined : new Date(value as string | Date).getTime());

export class LeaderElector {
  readonly #api: CoordinationV1Api;
  readonly #o: LeaderOptions;
  readonly #now: () => number;
  #leader = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #observed: { key: string; at: number } | undefined;
  #lastRenew = 0;
  #lease: V1Lease | undefined;
  #wake: (() => void) | undefined;

  constructor(kc: KubeConfig, options: LeaderOptions) {
    this.#api = kc.makeApiClient(CoordinationV1Api);
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Runs until stop(): acquire, renew, and after losing the lease, try again. */
  start(): void {
    void this.#loop();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      let ok = false;
      try {
        ok = await this.#tryAcquireOrRenew();
      } catch (error) {
        this.#o.log.warn({ err: messageOf(error), lease: this.#o.name }, 'lease: acquire or renew failed');
      }
      if (this.#stopped) break;
      if (ok) {
        this.#lastRenew = this.#now();
        if (!this.#leader) {
          this.#leader = true;
          this.#o.log.info({ lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity }, 'lease: became leader');
          this.#o.onStartedLeading();
        }
      } else if (this.#leader && this.#now() - this.#lastRenew >= this.#o.renewDeadlineMs) {
        this.#stepDown('could not renew within the renew deadline');
      } else if (this.#leader && this.#lease?.spec?.holderIdentity !== this.#o.identity && this.#lease !== undefined) {
        this.#stepDown(`the lease is held by ${this.#lease.spec?.holderIdentity ?? 'nobody'}`);
      }
      // A leader renews each retryPeriod; a candidate retries with up to 20 % jitter (client-go: JitterFactor 1.2).
      const wait = this.#leader ? this.#o.retryPeriodMs : this.#o.retryPeriodMs * (1 + Math.random() * 0.2);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, wait);
      });
    }
  }

  #stepDown(why: string): void {
    this.#leader = false;
    this.#o.log.warn({ lease: `${this.#o.namespace}/${this.#o.name}`, why }, 'lease: stopped leading');
    this.#o.onStoppedLeading();
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.#o;
    const now = this.#now();
    const leaseDurationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      const created = await this.#api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: new V1MicroTime(now), renewTime: new V1MicroTime(now), leaseTransitions: 0 },
        },
      });
      this.#lease = created;
      this.#observed = { key: this.#key(created), at: now };
      return true;
    }
    this.#lease = lease;
    const key = this.#key(lease);
    if (this.#observed?.key !== key) this.#observed = { key, at: now };
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== identity && this.#observed.at + duration > now) return false;
    const changed = holder !== identity;
    try {
      const updated = await this.#api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds,
            renewTime: new V1MicroTime(now),
            acquireTime: changed ? new V1MicroTime(now) : spec.acquireTime ? new V1MicroTime(time(spec.acquireTime)!) : new V1MicroTime(now),
            leaseTransitions: (spec.leaseTransitions ?? 0) + (changed ? 1 : 0),
          },
        },
      });
      this.#lease = updated;
      this.#observed = { key: this.#key(updated), at: now };
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false; // another candidate wrote first
      throw error;
    }
  }

  #key(lease: V1Lease): string {
    return `${lease.spec?.holderIdentity ?? ''}|${time(lease.spec?.renewTime) ?? ''}`;
  }

  /** Stops trying; a leader empties holderIdentity so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    if (!this.#leader) return;
    this.#leader = false;
    this.#o.onStoppedLeading();
    try {
      const lease = await this.#api.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace });
      if (lease.spec?.holderIdentity !== this.#o.identity) return;
      await this.#api.replaceNamespacedLease({
        name: this.#o.name,
        namespace: this.#o.namespace,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime(this.#now()), acquireTime: lease.spec.acquireTime ? new V1MicroTime(time(lease.spec.acquireTime)!) : undefined } },
      });
      this.#o.log.info({ lease: `${this.#o.namespace}/${this.#o.name}` }, 'lease: released');
    } catch (error) {
      this.#o.log.warn({ err: messageOf(error) }, 'lease: release failed; the others take over after the lease duration');
    }
  }
}
