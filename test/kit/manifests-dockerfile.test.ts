/**
 * The Dockerfile against the kit and the build: the image runs Node 24 as the UID the Deployment
 * expects, and ships only the service bundle, run with the environment the bench and the tests
 * run it with.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { COMPILE_CACHE, SERVICE_BUNDLE, SERVICE_DIR, serviceEnv } from '../../scripts/service-bundle.ts';
import { ROOT } from '../helpers/child.ts';
import { deployment } from './shipped-kit.ts';

describe('Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const instructions = dockerfile.getInstructions();
  const finalStage = instructions.slice(instructions.map((i) => i.getKeyword()).lastIndexOf('FROM'));

  it('builds every stage from Node 24', () => {
    for (const from of dockerfile.getFROMs()) expect(from.getImageName() + ':' + from.getImageTag()).toMatch(/^node:24(-|$)/);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node).toMatch(/24/);
  });

  it('runs node directly in exec form, as the numeric UID the Deployment expects', () => {
    const cmd = finalStage.find((i) => i.getKeyword() === 'CMD')!;
    expect(cmd.getArgumentsContent()).toBe(`["node", "${SERVICE_BUNDLE}"]`);
    const user = finalStage.find((i) => i.getKeyword() === 'USER')!.getArgumentsContent()!;
    const pod = deployment.spec.template.spec.securityContext;
    expect(user).toBe(`${pod.runAsUser}:${pod.runAsGroup}`);
  });

  it('ships only the service bundle in the final image, which `npm run build` writes where CMD looks', () => {
    const copies = finalStage.filter((i) => i.getKeyword() === 'COPY').map((i) => i.getTextContent());
    expect(copies).toEqual([`COPY --from=build /app/${SERVICE_DIR} ./${SERVICE_DIR}`]);
    expect(finalStage.some((i) => i.getKeyword() === 'RUN')).toBe(false);
    expect(existsSync(join(ROOT, SERVICE_BUNDLE))).toBe(true);
    const env = finalStage.filter((i) => i.getKeyword() === 'ENV').map((i) => i.getArgumentsContent() ?? '').join(' ');
    expect(env).toContain(`NODE_COMPILE_CACHE=/app/${COMPILE_CACHE}`);
    // The environment the bench and the tests run the bundle with is the image's.
    for (const [name, value] of Object.entries(serviceEnv(`/app/${SERVICE_DIR}`))) expect(env).toContain(`${name}=${value}`);
  });
});
