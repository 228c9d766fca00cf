import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveFolderName, archivePreviousRun } from '../../../core/run/archive.ts';
import { writeFileAtomic } from '../../../reporters/write/write-atomic.ts';

describe('a second run with the same label keeps the first', () => {
  it("moves exactly that label's outputs to previous/<label>-<timestamp>/ and leaves other labels alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-archive-'));
    for (const f of ['base_summary.json', 'base_raw.csv', 'base_report.md', 'base_timeline.png', 'base_x_summary.json', 'other_summary.json', 'notes.txt']) {
      writeFileSync(join(dir, f), f);
    }
    const when = new Date('2026-11-28T10:20:30.456Z');
    const moved = await archivePreviousRun(dir, 'base', when);
    expect(moved).toBe(join(dir, 'previous', 'base-2026-11-28T10-20-30-456Z'));
    expect(readdirSync(moved!).sort()).toEqual(['base_raw.csv', 'base_report.md', 'base_summary.json', 'base_timeline.png']);
    expect(readFileSync(join(moved!, 'base_summary.json'), 'utf8')).toBe('base_summary.json');
    expect(readdirSync(dir).sort()).toEqual(['base_x_summary.json', 'notes.txt', 'other_summary.json', 'previous']);
    expect(await archivePreviousRun(dir, 'base', when)).toBeUndefined();
    expect(archiveFolderName('a', when)).toBe('a-2026-11-28T10-20-30-456Z');
  });
});

describe('writeFileAtomic', () => {
  it('replaces a file in one step and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-atomic-'));
    const path = join(dir, 'sub', 'out.json');
    await writeFileAtomic(path, 'first');
    await writeFileAtomic(path, 'second');
    expect(readFileSync(path, 'utf8')).toBe('second');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['out.json']);
  });

  it('keeps the previous good file when the write fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-atomic-'));
    const path = join(dir, 'out.json');
    await writeFileAtomic(path, 'good');
    const bad = { toString: () => { throw new Error('boom'); } } as unknown as string;
    await expect(writeFileAtomic(path, bad)).rejects.toThrow();
    expect(readFileSync(path, 'utf8')).toBe('good');
    expect(readdirSync(dir)).toEqual(['out.json']);
    expect(existsSync(path)).toBe(true);
  });
});
