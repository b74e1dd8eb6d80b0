import { readFile } from 'node:fs/promises';
import { runQuiet } from './host.ts';

/** Mount points at or below `dir` (kubelet's tmpfs volumes, overlay rootfs, netns bind mounts). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const prefix = dir.replace(/\/$/, '');
  return mountinfo
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point === prefix || point.startsWith(`${prefix}/`));
}

/** Unmounts everything below `dir`, deepest first; lazily where a mount is still busy. */
export async function unmountAll(dir: string): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const points = (await mountsUnder(dir)).sort((a, b) => b.length - a.length);
    if (points.length === 0) return;
    for (const point of points) {
      await runQuiet('umount', [point]);
      if ((await mountsUnder(point)).includes(point)) await runQuiet('umount', ['-l', point]);
    }
  }
}
