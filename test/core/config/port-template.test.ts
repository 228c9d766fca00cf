import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config/load-config.ts';
import { applyPortTemplate, substitutePort } from '../../../core/config/port-template.ts';
import { ConfigError } from '../../../core/errors.ts';

const raw = (target: Record<string, unknown>) => ({
  target: { method: 'GET', ...target },
  workload: { concurrency_levels: [1], duration_seconds: 1 },
});
const started = {
  url: 'http://127.0.0.1:{{port}}/submit',
  start: { command: 'node server.js --port {{port}}', ready_url: 'http://127.0.0.1:{{port}}/healthz' },
};

describe('{{port}} in config.yaml', () => {
  it('substitutes every occurrence', () => {
    expect(substitutePort('a {{port}} b {{port}}', 4321)).toBe('a 4321 b 4321');
  });

  it('stands for target.port in a normal run, target.start.env left as written (its workload hash unchanged)', () => {
    const config = validateConfig(raw({ ...started, port: 8080 }), 'config.yaml', {});
    expect(config.target.url).toBe('http://127.0.0.1:8080/submit');
    expect(config.target.start).toEqual({ command: 'node server.js --port 8080', ready_url: 'http://127.0.0.1:8080/healthz', timeout_seconds: 30, env: {} });
  });

  it('LOADBENCH_PORT (what loadbench ab sets per side) wins over target.port', () => {
    const config = validateConfig(raw({ ...started, port: 8080 }), 'config.yaml', { LOADBENCH_PORT: '40123' });
    expect(config.target.url).toBe('http://127.0.0.1:40123/submit');
    expect(config.target.start?.command).toBe('node server.js --port 40123');
    expect(config.target.start?.ready_url).toBe('http://127.0.0.1:40123/healthz');
    expect(config.target.start?.env.PORT).toBe('40123');
  });

  it('keeps a PORT that target.start.env sets itself', () => {
    const { config } = applyPortTemplate(raw({ ...started, start: { ...started.start, env: { PORT: '1' } } }), { LOADBENCH_PORT: '2000' });
    expect((config as { target: { start: { env: Record<string, string> } } }).target.start.env.PORT).toBe('1');
  });

  it('leaves a config without placeholder and port as it was', () => {
    const input = raw({ url: 'http://127.0.0.1:9000/x' });
    expect(applyPortTemplate(input, {})).toEqual({ config: input, problems: [] });
  });

  it('says what to do when {{port}} is used without a port', () => {
    const error = (() => {
      try {
        validateConfig(raw(started), 'config.yaml', {});
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems.join('\n')).toMatch(/target\.url, target\.start\.command, target\.start\.ready_url: \{\{port\}\} is used but no port is set: add target\.port/);
  });

  it('refuses a LOADBENCH_PORT that is not a port', () => {
    expect(() => validateConfig(raw({ ...started, port: 8080 }), 'config.yaml', { LOADBENCH_PORT: '99999' })).toThrow(/LOADBENCH_PORT: found "99999", expected a port number/);
  });

  it('target.port is validated by the schema', () => {
    expect(() => validateConfig(raw({ url: 'http://127.0.0.1:1/x', port: 0 }), 'config.yaml', {})).toThrow(/target\.port/);
  });
});
