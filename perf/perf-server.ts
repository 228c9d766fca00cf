/**
 * Minimal HTTP server for `npm run perf`: answers every request with a small JSON body,
 * optionally after a fixed delay. Prints "listening <port>" when ready.
 *   node perf/perf-server.ts --delay 20
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { delay: { type: 'string', default: '0' }, port: { type: 'string', default: '0' } } });
const delay = Number(values.delay);
const body = Buffer.from('{"ok":true}');
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };

const server = http.createServer((req, res) => {
  req.resume();
  const answer = (): void => {
    res.writeHead(200, headers);
    res.end(body);
  };
  req.on('end', () => (delay > 0 ? setTimeout(answer, delay) : answer()));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
// The harness may die without a signal reaching us: exit when our parent's pipe closes.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
