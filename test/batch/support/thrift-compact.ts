/**
 * Just enough of Thrift's compact protocol to write Parquet metadata (test and benchmark fixtures;
 * Larder itself only reads Parquet).
 */
export const T = { I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;

export class CompactWriter {
  private readonly parts: number[] = [];
  private last = 0;
  private readonly stack: number[] = [];

  bytes(): Buffer {
    return Buffer.from(this.parts);
  }

  private byte(b: number): void {
    this.parts.push(b & 0xff);
  }

  private varint(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.byte(Number((v & 0x7fn) | 0x80n));
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private zigzag(n: number | bigint): void {
    const v = BigInt(n);
    this.varint(v >= 0n ? v << 1n : (-v << 1n) - 1n);
  }

  private header(id: number, type: number): void {
    const delta = id - this.last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.last = id;
  }

  i32(id: number, v: number): this {
    this.header(id, T.I32);
    this.zigzag(v);
    return this;
  }

  i64(id: number, v: number | bigint): this {
    this.header(id, T.I64);
    this.zigzag(v);
    return this;
  }

  binary(id: number, value: string | Uint8Array): this {
    this.header(id, T.BINARY);
    this.rawBinary(value);
    return this;
  }

  private rawBinary(value: string | Uint8Array): void {
    const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    this.varint(BigInt(data.length));
    for (const b of data) this.byte(b);
  }

  struct(id: number, body: (w: this) => void): this {
    this.header(id, T.STRUCT);
    this.nested(body);
    return this;
  }

  private nested(body: (w: this) => void): void {
    this.stack.push(this.last);
    this.last = 0;
    body(this);
    this.byte(0);
    this.last = this.stack.pop() ?? 0;
  }

  private listHeader(id: number, elemType: number, n: number): void {
    this.header(id, T.LIST);
    if (n < 15) this.byte((n << 4) | elemType);
    else {
      this.byte(0xf0 | elemType);
      this.varint(BigInt(n));
    }
  }

  structList<V>(id: number, items: readonly V[], body: (w: this, item: V) => void): this {
    this.listHeader(id, T.STRUCT, items.length);
    for (const item of items) this.nested((w) => body(w, item));
    return this;
  }

  i32List(id: number, items: readonly number[]): this {
    this.listHeader(id, T.I32, items.length);
    for (const v of items) this.zigzag(v);
    return this;
  }

  binaryList(id: number, items: readonly string[]): this {
    this.listHeader(id, T.BINARY, items.length);
    for (const v of items) this.rawBinary(v);
    return this;
  }

  /** Ends a top-level struct (a page header or the file metadata). */
  end(): Buffer {
    this.byte(0);
    return this.bytes();
  }
}
