// The types of house.mjs, for the test that imports it.
export interface HouseMeasures {
  /** Each import circle among src/ files (type imports included), as paths from the root. */
  cycles: string[][];
  /** Every function's span in lines (in the files measured for functions), longest first. */
  functions: { file: string; name: string; lines: number }[];
  /** Every source file's lines, longest first. */
  files: { file: string; lines: number }[];
  /** Files directly in each folder, fullest first. */
  folders: { dir: string; files: number }[];
}
/** Functions are listed only from files longer than `minFunctionLines` (default 0: all). */
export declare function measureHouse(root: string, minFunctionLines?: number): HouseMeasures;
