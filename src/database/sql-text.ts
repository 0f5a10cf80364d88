/**
 * `text` with `find` replaced by `replacement`, where `find` must occur exactly once. For migrations that derive a SQL
 * function from the one an earlier migration created by editing its text: a text that moved or repeats stops the
 * migration instead of changing the wrong place, or none. The replacement is taken as is (no `$&`-style patterns).
 */
export function replaceOnce(text: string, find: string, replacement: string, what: string): string {
  const parts = text.split(find);
  if (parts.length !== 2) throw new Error(`${what} is not found once`);
  return parts.join(replacement);
}
