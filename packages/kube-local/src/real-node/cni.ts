import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PodNetwork } from '../pod-network.ts';

/** The address the Service gateway's namespace takes on the pod bridge (outside IPAM's range). */
export function gatewayAddress(network: PodNetwork): string {
  return network.podCidr.replace(/\.0\/24$/, '.254');
}

/**
 * The CNI network containerd gives each pod: the `bridge` plugin on the slot's own bridge
 * (podscale<N>, made by PodNetwork, whose address is the pods' gateway and the node's IP) and
 * `host-local` IPAM over the slot's pod range, its allocations under the cluster directory. Pods
 * get routes to their subnet and the Service range only — no default route, no masquerade — so
 * nothing a pod sends can leave the machine.
 */
export async function writeCniConfig(options: { dir: string; network: PodNetwork }): Promise<{ confDir: string; ipamDir: string }> {
  const { network } = options;
  const confDir = join(options.dir, 'net.d');
  const ipamDir = join(options.dir, 'ipam');
  await mkdir(confDir, { recursive: true });
  await mkdir(ipamDir, { recursive: true });
  const prefix = network.podCidr.replace(/\.0\/24$/, '');
  const conflist = {
    cniVersion: '1.0.0',
    name: `podscale${network.slot}`,
    plugins: [
      {
        type: 'bridge',
        bridge: network.bridge,
        isGateway: true,
        isDefaultGateway: false,
        ipMasq: false,
        // A pod reaching itself through its Service comes back through the bridge port it left by.
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: network.podCidr, rangeStart: `${prefix}.10`, rangeEnd: `${prefix}.250`, gateway: network.nodeIp }]],
          routes: [{ dst: network.serviceCidr, gw: network.nodeIp }],
          dataDir: ipamDir,
        },
      },
    ],
  };
  await writeFile(join(confDir, '10-podscale.conflist'), `${JSON.stringify(conflist, null, 2)}\n`);
  return { confDir, ipamDir };
}
