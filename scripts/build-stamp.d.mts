// The types of build-stamp.mjs, for the test that imports it.
export declare function sourceStamp(root: string): string;
export declare function stampPath(root: string): string;
