import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import type { CertFiles } from './pki.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string; deletionGracePeriodSeconds?: number; creationTimestamp?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export class KubeError extends Error {
  readonly status: number;
  constructor(method: string, path: string, status: number, body: string) {
    super(`${method} ${path}: ${status} ${body.slice(0, 300)}`);
    this.status = status;
  }
}

/**
 * A minimal API client for the node agent and the Service proxy, authenticating with a client
 * certificate. They need list+watch with field selectors (the Node authorizer only lets a node see
 * the pods bound to it), which client-node's informer does not take, and nothing else fancy.
 */
export class KubeClient {
  readonly server: string;
  readonly #agent: Agent;

  private constructor(server: string, agent: Agent) {
    this.server = server;
    this.#agent = agent;
  }

  static async create(server: string, caFile: string, client: CertFiles): Promise<KubeClient> {
    const [ca, cert, key] = await Promise.all([readFile(caFile), readFile(client.cert), readFile(client.key)]);
    // Watches hold a connection each: allow plenty, and never time out a quiet watch ourselves.
    return new KubeClient(server, new Agent({ connect: { ca, cert, key }, connections: 64, bodyTimeout: 0, headersTimeout: 30_000 }));
  }

  async call<T = KubeObject>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const response = await request(`${this.server}${path}`, {
      method,
      dispatcher: this.#agent,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300) throw new KubeError(method, path, response.statusCode, text);
    return (text ? JSON.parse(text) : {}) as T;
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  /**
   * Lists, then watches from the list's resourceVersion, calling `onEvent` for every change; a
   * watch that ends is resumed, and one that is too old (410 Gone) starts over with a fresh list
   * ('SYNC' then carries the complete set). Stops when `signal` aborts.
   */
  async watch(path: string, query: Record<string, string>, onEvent: (type: 'SYNC' | 'ADDED' | 'MODIFIED' | 'DELETED', objects: KubeObject[]) => void, signal: AbortSignal): Promise<void> {
    const search = (extra: Record<string, string>) => `?${new URLSearchParams({ ...query, ...extra }).toString()}`;
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const list = await this.get<{ metadata: { resourceVersion: string }; items: KubeObject[] }>(`${path}${search({})}`);
          resourceVersion = list.metadata.resourceVersion;
          onEvent('SYNC', list.items);
        }
        const response = await request(`${this.server}${path}${search({ watch: '1', resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: '300' })}`, { dispatcher: this.#agent, signal });
        if (response.statusCode === 410) {
          await response.body.dump();
          resourceVersion = undefined;
          continue;
        }
        if (response.statusCode >= 300) throw new KubeError('WATCH', path, response.statusCode, await response.body.text());
        let buffered = '';
        for await (const chunk of response.body) {
          buffered += (chunk as Buffer).toString('utf8');
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            if (!line.trim()) continue;
            const event = JSON.parse(line) as { type: string; object: KubeObject & { code?: number } };
            if (event.type === 'ERROR') {
              // 410: the resourceVersion is too old; relist.
              if (event.object.code === 410) resourceVersion = undefined;
              break;
            }
            resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
            if (event.type === 'BOOKMARK') continue;
            onEvent(event.type as 'ADDED' | 'MODIFIED' | 'DELETED', [event.object]);
          }
        }
      } catch (error) {
        if (signal.aborted) return;
        // The apiserver restarting or a network hiccup: try again shortly, from where we were.
        await new Promise((resolve) => setTimeout(resolve, 500));
        if (error instanceof KubeError && error.status === 410) resourceVersion = undefined;
      }
    }
  }

  /**
   * `watch`, kept as the current set of objects by `<namespace>/<name>`: `onChange` gets the whole
   * set after every change (the first call carries the initial list).
   */
  mirror<T extends KubeObject>(path: string, onChange: (objects: ReadonlyMap<string, T>) => void, signal: AbortSignal): Promise<void> {
    const objects = new Map<string, T>();
    return this.watch(
      path,
      {},
      (type, changed) => {
        if (type === 'SYNC') objects.clear();
        for (const object of changed as T[]) {
          const key = `${object.metadata.namespace}/${object.metadata.name}`;
          if (type === 'DELETED') objects.delete(key);
          else objects.set(key, object);
        }
        onChange(objects);
      },
      signal,
    );
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
