/**
 * A fake procfs tree in a temporary folder, for deterministic tests of the sampler's discovery
 * and bookkeeping. Files are rewritten in place, so files the sampler keeps open see new contents;
 * a process that exits gets an empty stat first (a kept-open file of a deleted folder would still
 * read its old contents, where the real procfs answers ESRCH).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One fake process. */
export interface FakeProcess {
  pid: number;
  comm: string;
  argv: string[];
  ppid: number;
  pgid: number;
  utime?: number;
  stime?: number;
  childTicks?: number;
  startTicks?: number;
  rssPages?: number;
  sharedPages?: number;
  children?: number[];
}

export class FakeProc {
  readonly root = mkdtempSync(join(tmpdir(), 'fake-proc-'));
  readonly #processes = new Map<number, FakeProcess>();

  constructor(readonly selfPid: number, options: { childrenFiles?: boolean } = {}) {
    this.machine(0);
    writeFileSync(join(this.root, 'meminfo'), 'MemTotal:       1048576 kB\nMemFree:          524288 kB\nMemAvailable:     786432 kB\n');
    this.uptime(1000);
    mkdirSync(join(this.root, 'self', 'task', String(selfPid)), { recursive: true });
    writeFileSync(join(this.root, 'self', 'stat'), `${selfPid} (node) S 1 ${selfPid} 0`);
    if (options.childrenFiles !== false) writeFileSync(join(this.root, 'self', 'task', String(selfPid), 'children'), '');
  }

  /** /proc/stat with 2 cores, `seconds` of which half were busy (100 ticks per second). */
  machine(seconds: number): void {
    const t = Math.round(seconds * 100);
    writeFileSync(join(this.root, 'stat'), `cpu  ${t} 0 0 ${t} 0 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\ncpu1 1 0 0 1 0 0 0 0 0 0\nintr 0\n`);
  }

  uptime(seconds: number): void {
    writeFileSync(join(this.root, 'uptime'), `${seconds.toFixed(2)} 0.00\n`);
  }

  /** Creates or updates a process. */
  set(p: FakeProcess, childrenFiles = true): void {
    const previous = this.#processes.get(p.pid);
    const merged = { ...previous, ...p };
    this.#processes.set(p.pid, merged);
    const dir = join(this.root, String(p.pid));
    mkdirSync(join(dir, 'task', String(p.pid)), { recursive: true });
    const fields = [
      'S', merged.ppid, merged.pgid, merged.pgid, 0, -1, 0, 0, 0, 0, 0,
      merged.utime ?? 0, merged.stime ?? 0, merged.childTicks ?? 0, 0, 20, 0, 1, 0, merged.startTicks ?? 1000, 0, merged.rssPages ?? 256,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    writeFileSync(join(dir, 'stat'), `${p.pid} (${merged.comm}) ${fields.join(' ')}\n`);
    writeFileSync(join(dir, 'statm'), `1000 ${merged.rssPages ?? 256} ${merged.sharedPages ?? 0} 1 0 1 0\n`);
    writeFileSync(join(dir, 'cmdline'), merged.argv.map((a) => `${a}\0`).join(''));
    if (childrenFiles) writeFileSync(join(dir, 'task', String(p.pid), 'children'), (merged.children ?? []).map((c) => `${c} `).join(''));
  }

  /** The process exits (and is waited for). */
  kill(pid: number): void {
    const dir = join(this.root, String(pid));
    writeFileSync(join(dir, 'stat'), '');
    writeFileSync(join(dir, 'statm'), '');
    rmSync(dir, { recursive: true, force: true });
    this.#processes.delete(pid);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
