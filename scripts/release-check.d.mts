// Types of release-check.mjs, for the TypeScript tests that use it.
export function packageProblems(
  files: { path: string; mode: number }[],
  pkg: { files?: string[]; bin?: Record<string, string>; main?: string; types?: string },
): string[];
