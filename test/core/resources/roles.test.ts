import { describe, expect, it } from 'vitest';
import { deriveRole, processLabel } from '../../../core/resources/roles.ts';

const role = (cmdline: string, comm = 'x'): string => {
  const r = deriveRole(cmdline.split('\0'), comm);
  return r.wrapper ? `(${r.role})` : r.role;
};

describe('deriveRole', () => {
  it('names the reference system: sh wrapper, gateway, workers (command lines as on Linux)', () => {
    expect(role('/bin/sh\0-c\0node --import tsx examples/submit-gateway/gateway.ts --port 8080', 'sh')).toBe('(sh)');
    expect(role('node\0--import\0tsx\0examples/submit-gateway/gateway.ts\0--port\0' + '8080', 'node')).toBe('gateway');
    expect(role('/usr/bin/node\0--import\0file:///work/main/node_modules/tsx/dist/loader.mjs\0/work/wt/resources/examples/submit-gateway/worker.ts', 'node')).toBe('worker');
    expect(role('/work/main/node_modules/@esbuild/linux-x64/bin/esbuild\0--service=0.28.2\0--ping', 'esbuild')).toBe('esbuild');
  });

  it('takes the script an interpreter runs, past its options', () => {
    expect(role('node\0--enable-source-maps\0-r\0./setup.cjs\0--\0server.mjs')).toBe('server');
    expect(role('node\0--max-old-space-size=4096\0dist/api.js')).toBe('api');
    expect(role('node\0services/billing/dist/index.js')).toBe('billing');
    expect(role('node\0-e\0setInterval(() => {}, 1000)')).toBe('node');
    expect(role('node')).toBe('node');
    expect(role('python3\0-u\0/srv/app/manage.py\0runserver')).toBe('manage');
    expect(role('python3.12\0-m\0uvicorn\0app:main')).toBe('uvicorn');
    expect(role('java\0-Xmx512m\0-jar\0/opt/kafka-ui.jar')).toBe('kafka-ui');
    expect(role('node\0/usr/lib/node_modules/ts-node/dist/bin.js\0src/main.ts')).toBe('main');
    expect(role('node\0/app/node_modules/.bin/ts-node\0src/queue.ts')).toBe('queue');
  });

  it('marks launchers as wrappers', () => {
    expect(role('npm run gateway')).toBe('(npm)');
    expect(role('node\0/usr/lib/node_modules/npm/bin/npm-cli.js\0run\0gateway')).toBe('(npm)');
    expect(role('node\0/work/main/node_modules/tsx/dist/cli.mjs\0gateway.ts')).toBe('(tsx)');
    expect(role('/usr/bin/env\0node\0x.js')).toBe('(env)');
    expect(role('bash\0./start.sh')).toBe('(bash)');
  });

  it('reads rewritten titles and falls back to the kernel name', () => {
    expect(role('postgres: checkpointer ', 'postgres')).toBe('postgres');
    expect(role('/usr/lib/postgresql/16/bin/postgres\0-D\0/var/lib/postgresql/data', 'postgres')).toBe('postgres');
    expect(role('nginx: worker process', 'nginx')).toBe('nginx');
    expect(role('redis-server *:6379', 'redis-server')).toBe('redis-server');
    expect(deriveRole([], 'kworker/0:1')).toEqual({ role: 'kworker/0:1', wrapper: false });
  });
});

describe('processLabel', () => {
  it('numbers a role only when several processes have had it', () => {
    const counts = new Map([['worker', 3], ['gateway', 1]]);
    expect(processLabel({ role: 'gateway', ordinal: 1 }, counts)).toBe('gateway');
    expect(processLabel({ role: 'worker', ordinal: 1 }, counts)).toBe('worker 1');
    expect(processLabel({ role: 'worker', ordinal: 3 }, counts)).toBe('worker 3');
  });
});
