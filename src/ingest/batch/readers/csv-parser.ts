/**
 * A streaming RFC 4180 CSV parser: fields separated by commas, records by LF or CRLF, fields in
 * double quotes may hold commas, quotes (doubled) and line breaks. Input arrives as text chunks;
 * a record split across chunks is carried over.
 */
export class CsvParser {
  #field = '';
  #record: string[] = [];
  #inQuotes = false;
  /** A quote seen inside quotes: either the closing quote or the first of a doubled one. */
  #quoteSeen = false;
  #fieldStarted = false;

  readonly #delimiter: number;
  constructor(delimiter = 44 /* , */) {
    this.#delimiter = delimiter;
  }

  /** Parses a chunk; returns the records it completed. */
  push(text: string): string[][] {
    const out: string[][] = [];
    const delimiter = this.#delimiter;
    let fieldStart = 0;
    let i = 0;
    const n = text.length;
    // `field` accumulates text across chunks; within a chunk, plain runs are sliced at once.
    while (i < n) {
      const c = text.charCodeAt(i);
      if (this.#inQuotes) {
        if (this.#quoteSeen) {
          this.#quoteSeen = false;
          if (c === 34) {
            this.#field += '"';
            i++;
            fieldStart = i;
            continue;
          }
          this.#inQuotes = false;
          fieldStart = i;
          continue; // re-read c outside quotes
        }
        if (c === 34) {
          this.#field += text.slice(fieldStart, i);
          this.#quoteSeen = true;
          i++;
          fieldStart = i;
          continue;
        }
        i++;
        continue;
      }
      if (c === 34 && !this.#fieldStarted && i === fieldStart && this.#field === '') {
        this.#inQuotes = true;
        this.#fieldStarted = true;
        i++;
        fieldStart = i;
        continue;
      }
      if (c === delimiter) {
        this.#record.push(this.#field + text.slice(fieldStart, i));
        this.#field = '';
        this.#fieldStarted = false;
        i++;
        fieldStart = i;
        continue;
      }
      if (c === 10) {
        let end = i;
        if (end > fieldStart && text.charCodeAt(end - 1) === 13) end--;
        let value = this.#field + text.slice(fieldStart, end);
        if (end === fieldStart && value.endsWith('\r')) value = value.slice(0, -1);
        this.#record.push(value);
        out.push(this.#record);
        this.#record = [];
        this.#field = '';
        this.#fieldStarted = false;
        i++;
        fieldStart = i;
        continue;
      }
      this.#fieldStarted = true;
      i++;
    }
    if (this.#inQuotes) {
      if (!this.#quoteSeen) this.#field += text.slice(fieldStart, n);
    } else {
      this.#field += text.slice(fieldStart, n);
    }
    return out;
  }

  /** Ends the input; returns the last record when it had no trailing newline. */
  end(): string[][] {
    if (this.#quoteSeen) {
      this.#quoteSeen = false;
      this.#inQuotes = false;
    }
    if (this.#field === '' && this.#record.length === 0) return [];
    let value = this.#field;
    if (!this.#inQuotes && value.endsWith('\r')) value = value.slice(0, -1);
    this.#record.push(value);
    const last = this.#record;
    this.#record = [];
    this.#field = '';
    return [last];
  }
}
