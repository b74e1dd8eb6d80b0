import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@podscale/service/config.ts';
import { runServiceExpectingExit } from '../../../test/helpers/child.ts';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig({ POD_NAME: 'p' })).toEqual({
      port: 8080,
      host: '0.0.0.0',
      metricsPort: undefined,
      logLevel: 'info',
      logRequests: false,
      shutdownDelayMs: 5000,
      shutdownTimeoutMs: 20000,
      bodyLimitBytes: 65536,
      workMaxMs: 1000,
      delayMaxMs: 10000,
      keepAliveTimeoutMs: 65000,
      headersTimeoutMs: 10000,
      requestTimeoutMs: 30000,
      overloadMaxEventLoopDelayMs: 100,
      podName: 'p',
      podNamespace: undefined,
    });
  });

  it('converts strings the way a Deployment sets them', () => {
    const config = loadConfig({ PORT: '9000', LOG_REQUESTS: 'true', METRICS_PORT: '9100', SHUTDOWN_DELAY_MS: '0' });
    expect(config).toMatchObject({ port: 9000, logRequests: true, metricsPort: 9100, shutdownDelayMs: 0 });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });

  it.each([
    ['PORT', 'http', /PORT must be an integer from 0 to 65535, got "http"/],
    ['PORT', '70000', /PORT must be an integer from 0 to 65535, got "70000"/],
    ['PORT', '80.5', /PORT must be an integer from 0 to 65535, got "80.5"/],
    ['PORT', '1e400', /PORT must be an integer from 0 to 65535, got "1e400"/],
    ['METRICS_PORT', '-1', /METRICS_PORT must be an integer from 0 to 65535/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/],
    ['LOG_REQUESTS', 'maybe', /LOG_REQUESTS must be true or false, got "maybe"/],
    ['SHUTDOWN_DELAY_MS', '5s', /SHUTDOWN_DELAY_MS must be an integer from 0 to 600000, got "5s"/],
    ['SHUTDOWN_TIMEOUT_MS', '0', /SHUTDOWN_TIMEOUT_MS must be an integer from 1 to 600000/],
    ['BODY_LIMIT_BYTES', '1', /BODY_LIMIT_BYTES must be an integer from 2 to 10485760/],
    ['WORK_MAX_MS', '1e9', /WORK_MAX_MS must be an integer from 1 to 60000/],
    ['DELAY_MAX_MS', 'x', /DELAY_MAX_MS must be an integer from 0 to 600000/],
    ['POD_NAME', 'x'.repeat(300), /POD_NAME must be a pod name/],
  ])('rejects %s=%s with a message naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('rejects a headers timeout longer than the request timeout', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '40000', REQUEST_TIMEOUT_MS: '30000' })).toThrow(/HEADERS_TIMEOUT_MS \(40000\) must not exceed REQUEST_TIMEOUT_MS \(30000\)/);
  });

  it('reports every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'a', LOG_LEVEL: 'b' })).toThrow(/PORT must be .*; LOG_LEVEL must be/);
  });
});

describe('the process with a bad environment', () => {
  it('exits 1 with the message on stderr', async () => {
    const { code, stderr } = await runServiceExpectingExit({ PORT: 'eighty', SHUTDOWN_TIMEOUT_MS: '-5' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/PORT must be an integer from 0 to 65535, got "eighty"/);
    expect(stderr).toMatch(/SHUTDOWN_TIMEOUT_MS must be an integer from 1 to 600000, got "-5"/);
  });
});
