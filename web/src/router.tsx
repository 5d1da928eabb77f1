// A tiny router on the history API: plain paths, so the server's SPA fallback serves them all.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

export type Route =
  | { name: "home" }
  | { name: "signin" }
  | { name: "signup" }
  | { name: "new_space" }
  | { name: "space"; id: string }
  | { name: "user"; handle: string }
  | { name: "settings" }
  | { name: "tokens" }
  | { name: "admin" }
  | { name: "tickets" }
  | { name: "not_found" };

const NAVIGATE = "salon:navigate";

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

export function matchRoute(pathname: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  if (path === "/") return { name: "home" };
  if (path === "/signin") return { name: "signin" };
  if (path === "/signup") return { name: "signup" };
  if (path === "/settings") return { name: "settings" };
  if (path === "/settings/tokens") return { name: "tokens" };
  if (path === "/admin") return { name: "admin" };
  if (path === "/tickets") return { name: "tickets" };
  if (path === "/spaces/new") return { name: "new_space" };
  const space = /^\/spaces\/([^/]+)$/.exec(path);
  if (space?.[1]) {
    const id = decode(space[1]);
    if (id) return { name: "space", id };
  }
  const user = /^\/users\/([^/]+)$/.exec(path);
  if (user?.[1]) {
    const handle = decode(user[1]);
    if (handle) return { name: "user", handle };
  }
  return { name: "not_found" };
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(NAVIGATE, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(NAVIGATE, onChange);
  };
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

export function navigate(to: string, { replace = false } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(NAVIGATE));
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string };

/** An ordinary <a>: new-tab and modified clicks keep working; plain clicks stay in the app. */
export function Link({ href, onClick, ...rest }: LinkProps) {
  function handle(event: MouseEvent<HTMLAnchorElement>) {
    onClick?.(event);
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey ||
      rest.target === "_blank"
    ) {
      return;
    }
    event.preventDefault();
    navigate(href);
  }
  return <a href={href} onClick={handle} {...rest} />;
}
