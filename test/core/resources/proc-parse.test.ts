import { describe, expect, it } from 'vitest';
import {
  AT_CLKTCK,
  AT_PAGESZ,
  parseAuxv,
  parseCmdline,
  parseKeyValues,
  parseMachineStat,
  parseMeminfo,
  parsePidList,
  parseProcStat,
  parseProcStatm,
  parseStatusRssBytes,
  parseUptimeSeconds,
} from '../../../core/resources/proc-parse.ts';

/** A stat line as the kernel writes it (fields 3… after the comm), with chosen values. */
function statLine(pid: number, comm: string, f: { ppid?: number; pgid?: number; utime?: number; stime?: number; cutime?: number; cstime?: number; start?: number; rss?: number } = {}): string {
  const after = [
    'S', f.ppid ?? 1, f.pgid ?? pid, pid, 0, -1, 4194560, 1234, 0, 0, 0,
    f.utime ?? 0, f.stime ?? 0, f.cutime ?? 0, f.cstime ?? 0, 20, 0, 7, 0, f.start ?? 1000, 123456789, f.rss ?? 0,
    '18446744073709551615', 1, 1, 0, 0, 0, 0, 0, 4096, 134234626, 0, 0, 0, 17, 1, 0, 0, 0, 0, 0,
  ];
  return `${pid} (${comm}) ${after.join(' ')}\n`;
}

describe('parseProcStat', () => {
  it('reads the fields the sampler uses', () => {
    const stat = parseProcStat(statLine(4242, 'node', { ppid: 7, pgid: 4200, utime: 1500, stime: 250, cutime: 30, cstime: 12, start: 987654, rss: 20480 }));
    expect(stat).toEqual({
      pid: 4242, comm: 'node', state: 'S', ppid: 7, pgid: 4200, utimeTicks: 1500, stimeTicks: 250,
      childTicks: 42, threads: 7, startTicks: 987654, rssPages: 20480,
    });
  });

  it('takes the comm up to the last parenthesis, whatever it contains', () => {
    const stat = parseProcStat(statLine(12, 'a) (b c) ) x', { ppid: 3, utime: 9 }));
    expect(stat?.comm).toBe('a) (b c) ) x');
    expect(stat?.ppid).toBe(3);
    expect(stat?.utimeTicks).toBe(9);
    expect(parseProcStat(statLine(13, ''))?.comm).toBe('');
    expect(parseProcStat(statLine(14, 'with\nnewline'))?.comm).toBe('with\nnewline');
  });

  it('rejects what the kernel does not write', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('12 (x) S 1 2 3')).toBeUndefined();
    expect(parseProcStat(statLine(12, 'x').replace(' 1000 ', ' 1e3 '))).toBeUndefined();
    expect(parseProcStat('x (y) ' + statLine(12, 'z').split(') ')[1])).toBeUndefined();
  });
});

describe('small procfs files', () => {
  it('statm: resident and shared pages', () => {
    expect(parseProcStatm('184213 20134 10947 14 0 25330 0\n')).toEqual({ residentPages: 20134, sharedPages: 10947 });
    expect(parseProcStatm('1 2')).toBeUndefined();
  });

  it('status: VmRSS in bytes, none for kernel threads', () => {
    expect(parseStatusRssBytes('Name:\tnode\nVmHWM:\t   90000 kB\nVmRSS:\t   82796 kB\nRssAnon:\t   38508 kB\n')).toBe(82796 * 1024);
    expect(parseStatusRssBytes('Name:\tkthreadd\nThreads:\t1\n')).toBeUndefined();
  });

  it('cmdline: NUL-separated arguments, or one rewritten title', () => {
    expect(parseCmdline(Buffer.from('node\0--import\0tsx\0gateway.ts\0'))).toEqual(['node', '--import', 'tsx', 'gateway.ts']);
    expect(parseCmdline(Buffer.from('postgres: checkpointer '))).toEqual(['postgres: checkpointer ']);
    expect(parseCmdline(Buffer.from('a\0\0b\0'))).toEqual(['a', '', 'b']);
    expect(parseCmdline(new Uint8Array(0))).toEqual([]);
  });

  it('/proc/stat: busy, idle and steal ticks over all cores, and the core count', () => {
    const text = [
      'cpu  100 5 50 1000 20 3 2 7 40 0',
      'cpu0 50 2 25 500 10 1 1 3 20 0',
      'cpu1 50 3 25 500 10 2 1 4 20 0',
      'intr 12345 0 0 0',
      'ctxt 999',
      'cpu_fake 1 2 3',
    ].join('\n');
    // guest (40) is already part of user (100): not added again.
    expect(parseMachineStat(text)).toEqual({ busyTicks: 100 + 5 + 50 + 3 + 2, idleTicks: 1020, stealTicks: 7, cores: 2 });
    expect(parseMachineStat('intr 1 2 3\n')).toBeUndefined();
  });

  it('/proc/meminfo: used = total - available, with the pre-3.14 fallback', () => {
    expect(parseMeminfo('MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    600 kB\n')).toEqual({ totalBytes: 1024000, usedBytes: 409600 });
    expect(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n')).toEqual({ totalBytes: 1024000, usedBytes: 600 * 1024 });
    expect(parseMeminfo('nothing')).toBeUndefined();
  });

  it('uptime, pid lists, key-value files', () => {
    expect(parseUptimeSeconds('2409.51 4505.22\n')).toBe(2409.51);
    expect(parseUptimeSeconds('')).toBeUndefined();
    expect(parsePidList('12 345 \n')).toEqual([12, 345]);
    expect(parsePidList('4\n5\n6\n')).toEqual([4, 5, 6]);
    expect(parsePidList('')).toEqual([]);
    expect(parseKeyValues('usage_usec 638911\nuser_usec 638911\nbad\n')).toEqual(new Map([['usage_usec', 638911], ['user_usec', 638911]]));
  });

  it('auxv: key/value machine words until AT_NULL, 64- and 32-bit', () => {
    const words64 = new DataView(new ArrayBuffer(8 * 8));
    [[AT_PAGESZ, 4096], [AT_CLKTCK, 100], [0, 0], [AT_CLKTCK, 999]].forEach(([k, v], i) => {
      words64.setBigUint64(i * 16, BigInt(k!), true);
      words64.setBigUint64(i * 16 + 8, BigInt(v!), true);
    });
    const auxv64 = parseAuxv(new Uint8Array(words64.buffer), 8, true);
    expect(auxv64.get(AT_CLKTCK)).toBe(100);
    expect(auxv64.get(AT_PAGESZ)).toBe(4096);

    const words32 = new DataView(new ArrayBuffer(4 * 4));
    words32.setUint32(0, AT_CLKTCK, false);
    words32.setUint32(4, 250, false);
    expect(parseAuxv(new Uint8Array(words32.buffer), 4, false).get(AT_CLKTCK)).toBe(250);
  });
});
