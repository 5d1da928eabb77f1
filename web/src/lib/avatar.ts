// An avatar is initials on a colour that a handle always maps to, so people are recognisable.

/** Up to two initials from a display name, falling back to the handle. */
export function initials(displayName: string, handle: string): string {
  const words = displayName.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : [words[0] ?? handle];
  const text = letters.map((w) => Array.from(w ?? "")[0] ?? "").join("");
  return (text || Array.from(handle)[0] || "?").toUpperCase();
}

/** A stable hue from the handle (case-insensitive, like handles themselves). */
export function hueOf(handle: string): number {
  let hash = 0;
  for (const ch of handle.toLowerCase()) hash = (hash * 31 + ch.codePointAt(0)!) >>> 0;
  return hash % 360;
}

/** Dark enough that white initials stay readable (WCAG AA against #fff). */
export function avatarColour(handle: string): string {
  return `hsl(${hueOf(handle)} 55% 38%)`;
}
