import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LarderError } from '../../../errors.ts';
import { globBase, globToRegExp, hasGlob } from './glob.ts';
import type { ObjectSource, SourceObject } from './object-source.ts';

/** Local files: a path, or a glob over absolute paths. */
export class LocalObjects implements ObjectSource {
  async list(pattern: string): Promise<SourceObject[]> {
    const normalized = pattern.split(path.sep).join('/');
    if (!hasGlob(normalized)) {
      const info = await stat(pattern).catch(() => undefined);
      if (info === undefined || !info.isFile()) return [];
      return [{ uri: pattern, size: info.size, mtimeMs: Math.floor(info.mtimeMs) }];
    }
    const base = globBase(normalized) || './';
    const matcher = globToRegExp(normalized);
    const found: SourceObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        const unix = full.split(path.sep).join('/');
        if (entry.isDirectory()) {
          await walk(full);
        } else if (entry.isFile() && matcher.test(unix)) {
          const info = await stat(full);
          found.push({ uri: full, size: info.size, mtimeMs: Math.floor(info.mtimeMs) });
        }
      }
    };
    await walk(base);
    return found.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async *stream(uri: string, start: number, end: number): AsyncIterable<Uint8Array> {
    if (end <= start) return;
    const stream = createReadStream(uri, { start, end: end - 1, highWaterMark: 1 << 20 });
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (cause) {
      throw new LarderError('LARDER_ERR_BATCH_SOURCE', `cannot read ${uri}: ${(cause as Error).message}`, {
        cause,
        details: { uri },
      });
    }
  }

  async read(uri: string, start: number, end: number): Promise<Uint8Array> {
    const handle = await open(uri, 'r').catch((cause: Error) => {
      throw new LarderError('LARDER_ERR_BATCH_SOURCE', `cannot open ${uri}: ${cause.message}`, { cause });
    });
    try {
      const buffer = Buffer.allocUnsafe(Math.max(0, end - start));
      let offset = 0;
      while (offset < buffer.length) {
        const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, start + offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
      }
      return buffer.subarray(0, offset);
    } finally {
      await handle.close();
    }
  }
}
