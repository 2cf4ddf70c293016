/** Waits for a condition without sleeping blindly: re-reads until the predicate holds or time runs out. */
export async function pollUntil<T>(
  read: () => Promise<T> | T,
  predicate: (value: T) => boolean,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`pollUntil timed out waiting for ${opts.what ?? 'condition'}; last value: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
