// A seam for the crash tests: with VBATCH_TEST_PAUSE_AT=<step> in its environment, the process
// says `vbatch: paused at <step>` on stderr once it reaches that step of a batch's life and then
// waits for ever, so a test can kill -9 it at exactly that point without guessing with sleeps.
// Steps: uploaded (file uploaded, id not recorded), created (batch created, id not recorded),
// polled (a status recorded), downloading (the first answer of a batch committed).

const hit = new Set<string>();

export async function pauseHook(step: string, before?: () => void): Promise<void> {
  if (process.env.VBATCH_TEST_PAUSE_AT !== step || hit.has(step)) return;
  hit.add(step);
  before?.();
  process.stderr.write(`vbatch: paused at ${step}\n`);
  await new Promise(() => {});
}
