// A compact set of line numbers: 10 M lines cost 1.25 MB, so "which rows are finished" can be held
// in memory while the input streams past without memory growing with the rows' content.
export class LineSet {
  private bits: Uint8Array;
  size = 0;

  constructor(capacity = 1024) {
    this.bits = new Uint8Array((capacity >>> 3) + 1);
  }

  add(n: number): void {
    const byte = n >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (n & 7);
    const cur = this.bits[byte] as number;
    if ((cur & mask) === 0) {
      this.bits[byte] = cur | mask;
      this.size++;
    }
  }

  has(n: number): boolean {
    const byte = n >>> 3;
    if (byte >= this.bits.length) return false;
    return ((this.bits[byte] as number) & (1 << (n & 7))) !== 0;
  }
}
