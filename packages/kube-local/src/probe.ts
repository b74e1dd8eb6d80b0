import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { KUBERNETES_VERSION } from './binaries.ts';
import { minorOf } from './releases.ts';

/** kubelet's prober says its major.minor: `kube-probe/1.37`. */
const PROBE_USER_AGENT = `kube-probe/${minorOf(KUBERNETES_VERSION)}`;

/** A probe as the pod spec declares it (core/v1 Probe). */
export interface ProbeSpec {
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: 'HTTP' | 'HTTPS'; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  /** For the kill after a failed liveness or startup probe; the pod's grace period when unset. */
  terminationGracePeriodSeconds?: number;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
}

/** Upstream's defaults for unset probe fields (core/v1 SetDefaults_Probe). */
export function probeTiming(probe: ProbeSpec): { initialDelayMs: number; periodMs: number; timeoutMs: number; successThreshold: number; failureThreshold: number } {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: (probe.periodSeconds ?? 10) * 1000,
    timeoutMs: (probe.timeoutSeconds ?? 1) * 1000,
    successThreshold: probe.successThreshold ?? 1,
    failureThreshold: probe.failureThreshold ?? 3,
  };
}

// Like kubelet, HTTPS probes do not verify the certificate (a pod's serving cert is often self-signed).
const insecure = new Agent({ connect: { rejectUnauthorized: false }, keepAliveTimeout: 1 });
const plain = new Agent({ keepAliveTimeout: 1 });

function resolvePort(port: number | string, ports: ContainerPort[]): number {
  if (typeof port === 'number') return port;
  const named = ports.find((candidate) => candidate.name === port);
  if (named) return named.containerPort;
  const numeric = Number(port);
  if (Number.isInteger(numeric)) return numeric;
  throw new Error(`probe port ${port} is not a container port`);
}

/**
 * Runs one probe attempt the way kubelet's prober does: HTTP 200–399 within the timeout, a TCP
 * connect, or an exec exiting 0 (run inside the container's namespaces via nsenter).
 */
export async function probeOnce(probe: ProbeSpec, target: { ip: string; ports: ContainerPort[]; pid?: number }): Promise<boolean> {
  const { timeoutMs } = probeTiming(probe);
  try {
    if (probe.httpGet) {
      const { path = '/', port, host, scheme = 'HTTP', httpHeaders = [] } = probe.httpGet;
      const url = `${scheme.toLowerCase()}://${host ?? target.ip}:${resolvePort(port, target.ports)}${path}`;
      const headers: Record<string, string> = { 'user-agent': PROBE_USER_AGENT, accept: '*/*' };
      for (const header of httpHeaders) headers[header.name.toLowerCase()] = header.value;
      const response = await request(url, { dispatcher: scheme === 'HTTPS' ? insecure : plain, headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
      await response.body.dump();
      return response.statusCode >= 200 && response.statusCode < 400;
    }
    if (probe.tcpSocket) {
      const port = resolvePort(probe.tcpSocket.port, target.ports);
      return await new Promise<boolean>((resolve) => {
        const socket = connect({ host: probe.tcpSocket?.host ?? target.ip, port, timeout: timeoutMs });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('timeout', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => resolve(false));
      });
    }
    if (probe.exec) {
      if (target.pid === undefined) return false;
      const pid = target.pid;
      const command = probe.exec.command;
      return await new Promise<boolean>((resolve) => {
        execFile('nsenter', ['--target', String(pid), '--mount', '--net', '--', ...command], { timeout: timeoutMs }, (error) => resolve(!error));
      });
    }
  } catch {
    return false;
  }
  return false;
}
