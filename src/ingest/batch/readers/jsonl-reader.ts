import { readLineBlocks } from './line-reader.ts';
import { BadRecord, type RecordBatch } from './record-batch.ts';

/** Parses JSON Lines into batches of rows. Blank lines are skipped; a bad line is a BadRecord. */
export async function* readJsonl(
  chunks: AsyncIterable<Uint8Array>,
  baseOffset: number,
  batchRows: number,
): AsyncIterable<RecordBatch> {
  let rows: unknown[] = [];
  let positions: number[] = [];
  let consumed = 0;
  for await (const block of readLineBlocks(chunks, baseOffset)) {
    const { lines, offsets } = block;
    consumed = block.consumed;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.length === 0 || line.trim() === '') continue;
      rows.push(parseLine(line));
      positions.push(offsets[i] as number);
    }
    if (rows.length >= batchRows) {
      yield { rows, positions, positionKind: 'byte', bytesRead: consumed };
      rows = [];
      positions = [];
    }
  }
  if (rows.length > 0) yield { rows, positions, positionKind: 'byte', bytesRead: consumed };
}

function parseLine(line: string): unknown {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch (err) {
    return new BadRecord(`not valid JSON: ${(err as Error).message}`, line);
  }
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    return new BadRecord('each line must be a JSON object', line);
  }
  return row;
}
