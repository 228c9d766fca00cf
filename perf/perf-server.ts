/**
 * Minimal HTTP server for `npm run perf`: answers every request with a small JSON body, after
 * a fixed delay when asked. Prints "listening <port>" when ready.
 *   node --import tsx perf/perf-server.ts [--delay 20] [--coarse] [--raw] [--stall]
 *
 * `--stall` holds every answer for 1 s once every 4 s (from 1 s to 2 s after the start, then 5 s
 * to 6 s, ...): the stalling server of the open-loop comparison.
 *
 * `--raw` answers from a plain TCP server with canned bytes (no HTTP machinery): about three
 * times cheaper per request than node:http, so that a generator, not the server, is the limit
 * (used to find the generators' ceiling).
 *
 * The delay is kept to the tenth of a millisecond: a plain setTimeout(20) fires 0-2 ms late
 * (timers run on the event loop's millisecond clock), which would hide what the generators add.
 * Answers are due in arrival order (one delay for all), so one queue and one timer serve every
 * waiting request: the timer wakes the loop about a millisecond early, then setImmediate turns
 * spin until the due time.
 *
 * `--coarse` answers after a plain timer instead (the delay, then 0-2 ms more): those spinning
 * turns keep a core busy whenever an answer is due within a millisecond or two, which at a
 * thousand requests per second is all the time. On a 2-core machine that core is the one the
 * load generator would use, so a test of the generator's own timing (its schedule lag) needs a
 * server that leaves it the core.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    delay: { type: 'string', default: '0' },
    port: { type: 'string', default: '0' },
    raw: { type: 'boolean', default: false },
    // A stalling server (the open-loop comparison): every answer due from 1 s to 2 s, 5 s to 6 s ... after the start waits until the stall ends.
    stall: { type: 'boolean', default: false },
    coarse: { type: 'boolean', default: false },
  },
});
const STALL_EVERY_MS = 4000;
const STALL_MS = 1000;
const startedAt = performance.now();
/** When the stall the server is in ends (`performance.now()`), or 0 when it is not in one. */
const stallEnd = (now: number): number => {
  if (!values.stall) return 0;
  const phase = (now - startedAt) % STALL_EVERY_MS;
  const from = STALL_EVERY_MS / 4;
  return phase >= from && phase < from + STALL_MS ? now - phase + from + STALL_MS : 0;
};
const delay = Number(values.delay);
const body = Buffer.from('{"ok":true}');
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
const EARLY_MS = 1.5;

const answer = (res: http.ServerResponse): void => {
  res.writeHead(200, headers);
  res.end(body);
};

const due: { at: number; res: http.ServerResponse }[] = [];
let head = 0;
let waking = false;

function wake(): void {
  const now = performance.now();
  while (head < due.length && due[head]!.at <= now) {
    answer(due[head]!.res);
    due[head++] = undefined!;
  }
  if (head > 1024) {
    due.splice(0, head);
    head = 0;
  }
  if (head === due.length) {
    due.length = 0;
    head = 0;
    waking = false;
    return;
  }
  const wait = due[head]!.at - now;
  if (wait > EARLY_MS + 1) setTimeout(wake, Math.floor(wait - EARLY_MS));
  else setImmediate(wake);
}

const CANNED = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
const HEAD_END = Buffer.from('\r\n\r\n');

/** One canned answer per complete request (head, then Content-Length bytes of body). */
function rawConnection(socket: net.Socket): void {
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  let pending: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let answers = 0;
    for (;;) {
      const end = buf.indexOf(HEAD_END);
      if (end === -1) break;
      const m = /content-length: *(\d+)/i.exec(buf.toString('latin1', 0, end));
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (buf.length < total) break;
      buf = buf.subarray(total);
      answers++;
    }
    if (buf.length > 0) pending = Buffer.from(buf);
    for (let i = 0; i < answers; i++) socket.write(CANNED);
  });
}

const server: net.Server = values.raw ? net.createServer(rawConnection) : http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (delay <= 0 && !values.stall) return answer(res);
    if (values.coarse && !values.stall) return void setTimeout(answer, delay, res);
    const at = performance.now() + delay;
    // Answers in arrival order: one held by a stall holds every later one too, as a stalled process would.
    due.push({ at: Math.max(at, stallEnd(at), due.at(-1)?.at ?? 0), res });
    if (!waking) {
      waking = true;
      setTimeout(wake, Math.max(0, Math.floor(delay - EARLY_MS)));
    }
  });
});
if (server instanceof http.Server) server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
// The harness may die without a signal reaching us: exit when our parent's pipe closes.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
