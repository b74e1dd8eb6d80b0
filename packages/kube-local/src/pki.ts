import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A key pair and certificate on disk, as the components' flags want them. */
export interface CertFiles {
  cert: string;
  key: string;
}

export interface ClusterPki {
  dir: string;
  ca: CertFiles;
  frontProxyCa: CertFiles;
  apiserver: CertFiles;
  frontProxyClient: CertFiles;
  admin: CertFiles;
  controllerManager: CertFiles;
  scheduler: CertFiles;
  node: CertFiles;
  nodeServing: CertFiles;
  apiserverKubeletClient: CertFiles;
  /** kube-proxy's client identity (the default system:node-proxier binding names this user). */
  kubeProxy: CertFiles;
  serviceAccount: { key: string; pub: string };
}

export interface PkiOptions {
  dir: string;
  /** IPs the apiserver is reached at: loopback and the `kubernetes` Service's ClusterIP. */
  apiserverIps: string[];
  nodeName: string;
  nodeIps: string[];
}

interface CertRequest {
  name: string;
  subject: string;
  usage: 'server' | 'client' | 'both';
  ips?: string[];
  dns?: string[];
}

// EC P-256 throughout: generated in milliseconds (RSA 2048 takes ~100 ms each on this machine) and
// accepted by every component, service-account tokens (ES256) included.
const KEY_ALGORITHM = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

/**
 * A fresh PKI for one cluster run, with openssl: the cluster CA and the front-proxy CA (the
 * aggregation layer must not trust the client CA for its request headers), serving and client
 * certificates for each component, and the service-account signing key. Valid for 7 days.
 */
export async function createPki(options: PkiOptions): Promise<ClusterPki> {
  const dir = options.dir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await selfSigned(dir, 'ca', '/CN=podscale-cluster-ca');
  const frontProxyCa = await selfSigned(dir, 'front-proxy-ca', '/CN=podscale-front-proxy-ca');
  const sign = (request: CertRequest, issuer: CertFiles) => signed(dir, request, issuer);
  const [apiserver, frontProxyClient, admin, controllerManager, scheduler, node, nodeServing, apiserverKubeletClient, kubeProxy] = await Promise.all([
    sign({ name: 'apiserver', subject: '/CN=kube-apiserver', usage: 'server', ips: options.apiserverIps, dns: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'] }, ca),
    sign({ name: 'front-proxy-client', subject: '/CN=front-proxy-client', usage: 'client' }, frontProxyCa),
    sign({ name: 'admin', subject: '/O=system:masters/CN=kubernetes-admin', usage: 'client' }, ca),
    sign({ name: 'controller-manager', subject: '/CN=system:kube-controller-manager', usage: 'client' }, ca),
    sign({ name: 'scheduler', subject: '/CN=system:kube-scheduler', usage: 'client' }, ca),
    sign({ name: 'node', subject: `/O=system:nodes/CN=system:node:${options.nodeName}`, usage: 'client' }, ca),
    sign({ name: 'node-serving', subject: `/O=system:nodes/CN=system:node:${options.nodeName}`, usage: 'server', ips: options.nodeIps, dns: [options.nodeName] }, ca),
    sign({ name: 'apiserver-kubelet-client', subject: '/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client', usage: 'client' }, ca),
    sign({ name: 'kube-proxy', subject: '/CN=system:kube-proxy', usage: 'client' }, ca),
  ]);
  const serviceAccount = { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') };
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', serviceAccount.key]);
  await run('openssl', ['ec', '-in', serviceAccount.key, '-pubout', '-out', serviceAccount.pub]);
  return { dir, ca, frontProxyCa, apiserver, frontProxyClient, admin, controllerManager, scheduler, node, nodeServing, apiserverKubeletClient, kubeProxy, serviceAccount };
}

async function selfSigned(dir: string, name: string, subject: string): Promise<CertFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await run('openssl', ['req', '-x509', ...KEY_ALGORITHM, '-nodes', '-keyout', files.key, '-out', files.cert, '-days', '7', '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  return files;
}

async function signed(dir: string, request: CertRequest, issuer: CertFiles): Promise<CertFiles> {
  const files = { cert: join(dir, `${request.name}.crt`), key: join(dir, `${request.name}.key`) };
  const csr = join(dir, `${request.name}.csr`);
  const extensions = join(dir, `${request.name}.ext`);
  const extendedUsage = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[request.usage];
  const altNames = [...(request.ips ?? []).map((ip) => `IP:${ip}`), ...(request.dns ?? []).map((name) => `DNS:${name}`)];
  await writeFile(extensions, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', `extendedKeyUsage=${extendedUsage}`, ...(altNames.length ? [`subjectAltName=${altNames.join(',')}`] : [])].join('\n') + '\n');
  await run('openssl', ['req', '-new', ...KEY_ALGORITHM, '-nodes', '-keyout', files.key, '-out', csr, '-subj', request.subject]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', issuer.cert, '-CAkey', issuer.key, '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-out', files.cert, '-days', '7', '-extfile', extensions]);
  return files;
}
