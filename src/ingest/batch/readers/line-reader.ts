/** The complete lines found in one chunk of input. */
export interface LineBlock {
  readonly lines: string[];
  /** Byte offset where each line starts. */
  readonly offsets: number[];
  /** Bytes consumed so far, up to the end of the last line of this block. */
  readonly consumed: number;
}

/**
 * Splits a byte stream into lines, one block per input chunk (one async step per chunk, not per
 * line, which matters at millions of rows). UTF-8 never uses the byte 0x0A inside a multi-byte
 * character, so splitting before decoding is safe. A trailing `\r` is dropped; offsets are
 * relative to `baseOffset`.
 */
export async function* readLineBlocks(
  chunks: AsyncIterable<Uint8Array>,
  baseOffset: number,
): AsyncIterable<LineBlock> {
  let carry: Buffer | undefined;
  let carryOffset = baseOffset;
  for await (const raw of chunks) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const buffer = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    const lines: string[] = [];
    const offsets: number[] = [];
    let start = 0;
    for (let nl = buffer.indexOf(10, start); nl !== -1; nl = buffer.indexOf(10, start)) {
      const end = nl > start && buffer[nl - 1] === 13 ? nl - 1 : nl;
      lines.push(buffer.toString('utf8', start, end));
      offsets.push(carryOffset + start);
      start = nl + 1;
    }
    carry = start < buffer.length ? buffer.subarray(start) : undefined;
    carryOffset += start;
    if (lines.length > 0) yield { lines, offsets, consumed: carryOffset - baseOffset };
  }
  if (carry !== undefined && carry.length > 0) {
    const end = carry[carry.length - 1] === 13 ? carry.length - 1 : carry.length;
    yield {
      lines: [carry.toString('utf8', 0, end)],
      offsets: [carryOffset],
      consumed: carryOffset + carry.length - baseOffset,
    };
  }
}
