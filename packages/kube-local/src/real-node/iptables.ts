import { spawn } from 'node:child_process';
import { runQuiet } from './host.ts';

const FAMILIES = ['iptables', 'ip6tables'] as const;

/**
 * Kubernetes' chains on the machine (kube-proxy's KUBE-SERVICES, KUBE-NODEPORTS, …; kubelet's
 * KUBE-IPTABLES-HINT and KUBE-KUBELET-CANARY): "iptables nat KUBE-SERVICES" per chain.
 */
export async function kubeChains(): Promise<string[]> {
  const found: string[] = [];
  for (const family of FAMILIES) {
    let table = '';
    for (const line of (await runQuiet(`${family}-save`, [])).split('\n')) {
      if (line.startsWith('*')) table = line.slice(1);
      else if (line.startsWith(':KUBE-')) found.push(`${family} ${table} ${line.slice(1).split(' ')[0]}`);
    }
  }
  return found;
}

/**
 * Removes every KUBE-* chain and every rule that jumps to one, leaving all other rules (podman's,
 * the machine's) as they are: the safety net after `kube-proxy --cleanup`, which does not know
 * kubelet's chains, and the whole cleanup after a run that was killed.
 */
export async function removeKubeChains(): Promise<void> {
  for (const family of FAMILIES) {
    const saved = await runQuiet(`${family}-save`, []);
    const script: string[] = [];
    let table = '';
    let deletes: string[] = [];
    let chains: string[] = [];
    const flushTable = () => {
      if (table && (deletes.length || chains.length)) script.push(`*${table}`, ...deletes, ...chains.map((chain) => `-F ${chain}`), ...chains.map((chain) => `-X ${chain}`), 'COMMIT');
      deletes = [];
      chains = [];
    };
    for (const line of saved.split('\n')) {
      if (line.startsWith('*')) {
        flushTable();
        table = line.slice(1);
      } else if (line.startsWith(':KUBE-')) chains.push(line.slice(1).split(' ')[0]!);
      else if (line.startsWith('-A ') && !line.startsWith('-A KUBE-') && / -j KUBE-|--jump KUBE-/.test(line)) deletes.push(`-D ${line.slice(3)}`);
    }
    flushTable();
    if (script.length === 0) continue;
    await restore(family, `${script.join('\n')}\n`);
  }
}

async function restore(family: string, script: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(`${family}-restore`, ['--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${family}-restore: ${stderr.trim()}`))));
    child.stdin.end(script);
  });
}
