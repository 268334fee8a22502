/**
 * An answer assembled from pieces: text written for this request, and kept lists spliced in as
 * the UTF-8 bytes they were encoded to once. The result is one `Buffer`, sent as is: the answer
 * is never built as one string, flattened and then encoded again for the socket.
 */
export class AnswerWriter {
  readonly #pieces: Buffer[] = [];
  #text: string;

  constructor(start: string) {
    this.#text = start;
  }

  text(text: string): void {
    this.#text += text;
  }

  /** A kept piece: its bytes when it has them, else its text. */
  piece(piece: string | Buffer): void {
    if (typeof piece === 'string') {
      this.#text += piece;
      return;
    }
    this.#flushText();
    this.#pieces.push(piece);
  }

  bytes(): Buffer {
    this.#flushText();
    const pieces = this.#pieces;
    return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
  }

  #flushText(): void {
    if (this.#text.length === 0) return;
    this.#pieces.push(Buffer.from(this.#text, 'utf8'));
    this.#text = '';
  }
}
