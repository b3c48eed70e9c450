import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ResolvedConfig } from '../config/schema.js';

/** What makes a file the same file: its device, inode, size and modification time (ns). */
function identity(file: string): string | null {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return null;
  }
}

interface Record {
  file: string;
  identity: string;
  sha256: string;
}

/**
 * sha256 digests that a load verified against a manifest, kept in a folder (one small file per data
 * file, written atomically, so several workers may share it). A later load of the same file takes the
 * recorded digest instead of reading every byte again, while the file keeps its device, inode, size and
 * mtime: a file written again, replaced or touched has another identity and is hashed anew.
 */
export class VerifiedDigests {
  constructor(private readonly dir: string) {}

  private recordPath(file: string): string {
    return path.join(this.dir, `${createHash('sha256').update(path.resolve(file)).digest('hex')}.json`);
  }

  /** The digest recorded for this file while it is still the file that was verified, else null. */
  lookup(file: string): string | null {
    try {
      const record = JSON.parse(readFileSync(this.recordPath(file), 'utf8')) as Partial<Record>;
      const id = identity(file);
      return id !== null && record.file === path.resolve(file) && record.identity === id && typeof record.sha256 === 'string' ? record.sha256 : null;
    } catch {
      return null;
    }
  }

  /** Records a digest that matched its manifest. Best effort: a read-only or full disk only costs a hash next time. */
  record(file: string, sha256: string): void {
    const id = identity(file);
    if (id === null) return;
    try {
      mkdirSync(this.dir, { recursive: true });
      const target = this.recordPath(file);
      const temp = `${target}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify({ file: path.resolve(file), identity: id, sha256 } satisfies Record));
      renameSync(temp, target);
    } catch {
      // Nothing to keep: the next load hashes the file.
    }
  }
}

/** The record a configuration asks for, if any. */
export function verifiedDigestsOf({ scoring }: Readonly<ResolvedConfig>): VerifiedDigests | undefined {
  if (!scoring.verifyChecksums || !scoring.recordDigests) return undefined;
  return new VerifiedDigests(scoring.digestRecordDir ?? path.join(tmpdir(), 'recserve-verified-digests'));
}
