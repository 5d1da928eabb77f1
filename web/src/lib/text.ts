// People's text counted as the server counts it (src/salon/domain/text.py): NFC-normalised,
// surrounding whitespace stripped, in code points. An input's maxLength counts UTF-16 units
// and silently cuts what is pasted (an emoji counts twice), so forms check with this instead.

/** The length the server will count for `value`. */
export function textLength(value: string): number {
  return [...value.normalize("NFC").trim()].length;
}

/** What a form says when `value` is longer than `max`, or null when it fits. */
export function tooLong(value: string, max: number, what: string): string | null {
  return textLength(value) > max ? `${what} is at most ${max} characters.` : null;
}

/** A live counter's words: "72/70" counts as the server will, so it can run over the limit. */
export function countText(value: string, max: number): { text: string; over: boolean } {
  const length = textLength(value);
  return { text: `${length}/${max}`, over: length > max };
}
