// Listener tokens ride in the URL's query (?token=…); a refreshed ticket swaps them in place.

/** The same URL with its `token` query parameter set to `token` (relative URLs stay relative). */
export function withToken(url: string, token: string): string {
  const hash = url.indexOf("#");
  const base = hash >= 0 ? url.slice(0, hash) : url;
  const fragment = hash >= 0 ? url.slice(hash) : "";
  const query = base.indexOf("?");
  const path = query >= 0 ? base.slice(0, query) : base;
  const params = new URLSearchParams(query >= 0 ? base.slice(query + 1) : "");
  params.set("token", token);
  return `${path}?${params.toString()}${fragment}`;
}

/** When to fetch a new ticket: a minute before it expires, or at 90 % of a short one's life. */
export function refreshDelayMs(expiresInSeconds: number): number {
  const margin = Math.min(60, expiresInSeconds * 0.1);
  // setTimeout overflows past 2^31-1 ms (~24.8 days) and would fire at once.
  return Math.min((expiresInSeconds - margin) * 1000, 2 ** 31 - 1);
}
