// A streaming RFC 4180 reader: quoted fields with embedded commas, line breaks and doubled quotes,
// LF or CRLF line ends. Records come out as each chunk is parsed, so memory holds one chunk and
// the record in progress whatever the file's size. Blank lines between records are skipped.

export interface CsvRecord {
  fields: string[];
  /** Physical line (1-based) the record starts on. */
  line: number;
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = "CsvSyntaxError";
  }
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

enum State {
  FieldStart = 0,
  Unquoted = 1,
  Quoted = 2,
  /** A quote seen inside a quoted field: either an escaped quote or the field's end. */
  QuoteInQuoted = 3,
}

export class CsvParser {
  private state = State.FieldStart;
  private field = "";
  private fields: string[] = [];
  private quoted = false;
  private line = 1;
  private recordLine = 1;
  private skipLf = false;
  private started = false;

  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let s = chunk;
    if (!this.started && s.length > 0) {
      this.started = true;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    const n = s.length;
    let i = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (this.skipLf) {
        this.skipLf = false;
        if (c === LF) {
          i++;
          continue;
        }
      }
      switch (this.state) {
        case State.FieldStart:
          i = this.fieldStart(c, i, out);
          break;
        case State.Unquoted:
          i = this.unquoted(s, i, out);
          break;
        case State.Quoted:
          i = this.quotedRun(s, i);
          break;
        case State.QuoteInQuoted:
          i = this.afterQuote(c, i, out);
          break;
      }
    }
    return out;
  }

  // Each state reads from `i` and returns where the next read starts.

  private fieldStart(c: number, i: number, out: CsvRecord[]): number {
    if (c === QUOTE) {
      this.state = State.Quoted;
      this.quoted = true;
    } else if (c === COMMA) this.endField();
    else if (c === LF || c === CR) this.endRecord(out, c);
    else {
      this.state = State.Unquoted;
      return i;
    }
    return i + 1;
  }

  private unquoted(s: string, i: number, out: CsvRecord[]): number {
    const n = s.length;
    let j = i;
    for (; j < n; j++) {
      const d = s.charCodeAt(j);
      if (d === COMMA || d === LF || d === CR || d === QUOTE) break;
    }
    this.field += s.slice(i, j);
    if (j === n) return j;
    const d = s.charCodeAt(j);
    if (d === QUOTE) {
      throw new CsvSyntaxError(
        "a double quote inside an unquoted field (quote the whole field and double the quote)",
        this.line,
      );
    }
    if (d === COMMA) this.endField();
    else this.endRecord(out, d);
    return j + 1;
  }

  private quotedRun(s: string, i: number): number {
    const n = s.length;
    let j = i;
    for (; j < n; j++) {
      const d = s.charCodeAt(j);
      if (d === QUOTE) break;
      if (d === LF) this.line++;
    }
    this.field += s.slice(i, j);
    if (j === n) return j;
    this.state = State.QuoteInQuoted;
    return j + 1;
  }

  private afterQuote(c: number, i: number, out: CsvRecord[]): number {
    if (c === QUOTE) {
      this.field += '"';
      this.state = State.Quoted;
    } else if (c === COMMA) this.endField();
    else if (c === LF || c === CR) this.endRecord(out, c);
    else {
      throw new CsvSyntaxError(
        `unexpected ${JSON.stringify(String.fromCharCode(c))} after a closing quote (a quote inside a quoted field is written "")`,
        this.line,
      );
    }
    return i + 1;
  }

  /** The last record, if the file does not end with a line break. */
  end(): CsvRecord[] {
    if (this.state === State.Quoted) {
      throw new CsvSyntaxError("a quoted field is never closed", this.recordLine);
    }
    const out: CsvRecord[] = [];
    if (this.fields.length > 0 || this.field !== "" || this.quoted || this.state !== State.FieldStart) {
      this.endRecord(out, -1);
    }
    return out;
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = "";
    this.quoted = false;
    this.state = State.FieldStart;
  }

  private endRecord(out: CsvRecord[], terminator: number): void {
    const blank = this.fields.length === 0 && this.field === "" && !this.quoted;
    this.endField();
    if (!blank) out.push({ fields: this.fields, line: this.recordLine });
    this.fields = [];
    this.line++;
    this.recordLine = this.line;
    if (terminator === CR) this.skipLf = true;
  }
}
