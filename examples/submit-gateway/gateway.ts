/**
 * CLI entry of the submit-gateway reference system:
 *
 *   node --import tsx examples/submit-gateway/gateway.ts [--port 8080] [--workers 2] …
 *
 * Flags win over environment variables, which win over defaults. Prints one
 * "listening" line on stdout when every worker is ready (with the real port,
 * so a parent can start it with --port 0 and parse the line), exits 0 after a
 * clean SIGTERM/SIGINT shutdown and 1 on any start-up error.
 */
import { parseArgs } from 'node:util';
import type { FaultMode } from './faults.ts';
import { DEFAULT_GATEWAY_OPTIONS, startGateway, type GatewayOptions } from './server.ts';

const NAME = 'submit-gateway';
/** Shutdown normally takes < 1 s; past this something is wedged and we exit anyway. */
const SHUTDOWN_DEADLINE_MS = 3_000;

const USAGE = `Usage: node --import tsx examples/submit-gateway/gateway.ts [options]

Options (environment variable in brackets):
  --port <n>              TCP port, 0 = any free port         [PORT]            default 8080
  --host <addr>           interface to bind                   [HOST]            default 127.0.0.1
  --workers <n>           worker processes                    [WORKERS]         default 2
  --difficulty <bits>     leading zero bits per job           [DIFFICULTY]      default 11
  --queue-limit <n>       jobs waiting in the gateway         [QUEUE_LIMIT]     default 256
  --max-in-flight <n>     jobs in flight per worker           [MAX_IN_FLIGHT]   default 2
  --body-limit <size>     max body, bytes or 64k / 1m         [BODY_LIMIT]      default 64k
  --fault-latency-ms <n>  extra delay on every /submit answer [FAULT_LATENCY_MS]
  --fault-error-rate <r>  share 0..1 answered 500             [FAULT_ERROR_RATE]
  --fault-hang-rate <r>   share 0..1 never answered           [FAULT_HANG_RATE]
  --fault-mode <m>        random | counter (exact every-Nth)  [FAULT_MODE]      default random
  --fault-seed <n>        seed for random mode                [FAULT_SEED]
  (environment only)      extra work per job, % of its hashes [FAULT_EXTRA_WORK_PCT] default 0
  -h, --help              show this help
Bearer token: GATEWAY_TOKEN (default dev-token).`;

class UsageError extends Error {}

function parseInteger(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function parseRate(name: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(`${name} must be a number between 0 and 1, got "${raw}"`);
  }
  return value;
}

function parseSize(name: string, raw: string): number {
  const match = /^(\d+)\s*(k|kb|kib|m|mb|mib)?$/i.exec(raw.trim());
  if (match?.[1] === undefined) throw new UsageError(`${name} must be a size like 65536, 64k or 1m, got "${raw}"`);
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit.startsWith('m') ? 1024 * 1024 : unit.startsWith('k') ? 1024 : 1;
  const value = Number(match[1]) * factor;
  if (value < 1) throw new UsageError(`${name} must be at least 1 byte`);
  return value;
}

/** Turn argv + env into gateway options; throws UsageError with a one-line message. */
function resolveOptions(argv: string[], env: NodeJS.ProcessEnv): Partial<GatewayOptions> | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        workers: { type: 'string' },
        difficulty: { type: 'string' },
        'queue-limit': { type: 'string' },
        'max-in-flight': { type: 'string' },
        'body-limit': { type: 'string' },
        'fault-latency-ms': { type: 'string' },
        'fault-error-rate': { type: 'string' },
        'fault-hang-rate': { type: 'string' },
        'fault-mode': { type: 'string' },
        'fault-seed': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)} (see --help)`);
  }
  if (values.help) return 'help';

  // Empty env vars count as unset, matching how most shells/CI templates leave them.
  const pick = (flag: string | undefined, envName: string): string | undefined =>
    flag ?? (env[envName] === undefined || env[envName] === '' ? undefined : env[envName]);

  const options: { -readonly [K in keyof GatewayOptions]?: GatewayOptions[K] } = {};
  const port = pick(values.port, 'PORT');
  if (port !== undefined) options.port = parseInteger('port', port, 0, 65_535);
  const host = pick(values.host, 'HOST');
  if (host !== undefined) options.host = host;
  const workers = pick(values.workers, 'WORKERS');
  if (workers !== undefined) options.workers = parseInteger('workers', workers, 1, 64);
  const difficulty = pick(values.difficulty, 'DIFFICULTY');
  if (difficulty !== undefined) options.difficulty = parseInteger('difficulty', difficulty, 0, 64);
  const queueLimit = pick(values['queue-limit'], 'QUEUE_LIMIT');
  if (queueLimit !== undefined) options.queueLimit = parseInteger('queue limit', queueLimit, 0, 1_000_000);
  const maxInFlight = pick(values['max-in-flight'], 'MAX_IN_FLIGHT');
  if (maxInFlight !== undefined) options.maxInFlightPerWorker = parseInteger('max in flight', maxInFlight, 1, 1_000);
  const bodyLimit = pick(values['body-limit'], 'BODY_LIMIT');
  if (bodyLimit !== undefined) options.bodyLimitBytes = parseSize('body limit', bodyLimit);
  const token = env.GATEWAY_TOKEN;
  if (token !== undefined && token !== '') options.token = token;

  const faults: { latencyMs?: number; errorRate?: number; hangRate?: number; mode?: FaultMode; seed?: number } = {};
  const latency = pick(values['fault-latency-ms'], 'FAULT_LATENCY_MS');
  if (latency !== undefined) faults.latencyMs = parseInteger('fault latency', latency, 0, 600_000);
  const errorRate = pick(values['fault-error-rate'], 'FAULT_ERROR_RATE');
  if (errorRate !== undefined) faults.errorRate = parseRate('fault error rate', errorRate);
  const hangRate = pick(values['fault-hang-rate'], 'FAULT_HANG_RATE');
  if (hangRate !== undefined) faults.hangRate = parseRate('fault hang rate', hangRate);
  const mode = pick(values['fault-mode'], 'FAULT_MODE');
  if (mode !== undefined) {
    if (mode !== 'random' && mode !== 'counter') throw new UsageError(`fault mode must be random or counter, got "${mode}"`);
    faults.mode = mode;
  }
  const seed = pick(values['fault-seed'], 'FAULT_SEED');
  if (seed !== undefined) faults.seed = parseInteger('fault seed', seed, 0, 2 ** 32 - 1);
  options.faults = faults;
  // Read by each worker from the environment it inherits (worker.ts); validated here so a typo stops the gateway.
  const extraWork = env.FAULT_EXTRA_WORK_PCT;
  if (extraWork !== undefined && extraWork !== '') parseInteger('FAULT_EXTRA_WORK_PCT', extraWork, 0, 1000);
  return options;
}

function describeFaults(faults: GatewayOptions['faults']): string {
  const parts: string[] = [];
  if (faults.latencyMs) parts.push(`latency=${faults.latencyMs}ms`);
  if (faults.errorRate) parts.push(`error-rate=${faults.errorRate}`);
  if (faults.hangRate) parts.push(`hang-rate=${faults.hangRate}`);
  if (parts.length > 0 && faults.mode === 'counter') parts.push('mode=counter');
  if (parts.length > 0 && faults.seed !== undefined) parts.push(`seed=${faults.seed}`);
  return parts.length > 0 ? `, faults: ${parts.join(' ')}` : '';
}

function fail(message: string): never {
  console.error(`${NAME}: error: ${message}`);
  process.exit(1);
}

function describeStartError(error: unknown, options: Partial<GatewayOptions>): string {
  const host = options.host ?? DEFAULT_GATEWAY_OPTIONS.host;
  const port = options.port ?? DEFAULT_GATEWAY_OPTIONS.port;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return `cannot listen on ${host}:${port}: address already in use (EADDRINUSE)`;
  if (code === 'EACCES') return `cannot listen on ${host}:${port}: permission denied (EACCES)`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${host}:${port}: address not available (EADDRNOTAVAIL)`;
  if (code === 'ENOTFOUND') return `cannot listen on ${host}:${port}: unknown host (ENOTFOUND)`;
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<void> {
  let options: Partial<GatewayOptions> | 'help';
  try {
    options = resolveOptions(process.argv.slice(2), process.env);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }

  let gateway;
  try {
    gateway = await startGateway(options);
  } catch (error) {
    fail(describeStartError(error, options));
  }

  const { options: effective } = gateway;
  console.log(
    `${NAME} listening on ${gateway.url} (workers=${effective.workers}, difficulty=${effective.difficulty}, ` +
      `queue-limit=${effective.queueLimit}, max-in-flight=${effective.maxInFlightPerWorker}${describeFaults(effective.faults)})`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second Ctrl-C means "now": workers still die via their IPC disconnect handler.
      console.error(`${NAME}: received ${signal} again, exiting immediately`);
      process.exit(1);
    }
    stopping = true;
    console.error(`${NAME}: received ${signal}, shutting down`);
    setTimeout(() => {
      console.error(`${NAME}: shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => fail(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

await main();
