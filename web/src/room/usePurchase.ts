import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import { ApiError } from "../api/problem";
import type { PurchaseView } from "../api/types";
import { purchaseOutcome } from "../lib/tickets";

/** While a payment is being confirmed, ask this often, for this long. */
export const PURCHASE_POLL_MS = 2000;
export const PURCHASE_POLL_FOR_MS = 60_000;

export interface PurchaseCheck {
  purchase: PurchaseView | null;
  error: unknown;
  /** Still held after PURCHASE_POLL_FOR_MS: we stopped asking (the person may ask again). */
  gaveUp: boolean;
  checkAgain: () => void;
}

/** The purchase id the checkout came back with: `/spaces/{id}?purchase={purchase_id}`. */
export function purchaseIdFromUrl(search: string): string | null {
  const id = new URLSearchParams(search).get("purchase");
  return id && /^[A-Za-z0-9_-]{1,24}$/.test(id) ? id : null;
}

/**
 * Coming back from the checkout: how did the purchase go? A held one is asked about every 2 s
 * until it settles (about a minute at most); `onSettled` runs once it has, to refresh the space.
 */
export function usePurchase(purchaseId: string | null, onSettled: () => void): PurchaseCheck {
  const [purchase, setPurchase] = useState<PurchaseView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [gaveUp, setGaveUp] = useState(false);
  const [round, setRound] = useState(0);
  const settled = useRef(onSettled);
  settled.current = onSettled;

  useEffect(() => {
    if (purchaseId === null) return;
    let cancelled = false;
    let timer: number | undefined;
    const startedAt = Date.now();
    setGaveUp(false);

    const check = async () => {
      try {
        const found = await api.purchase(purchaseId);
        if (cancelled) return;
        setPurchase(found);
        setError(null);
        if (purchaseOutcome(found.state).settled) {
          settled.current();
          return;
        }
      } catch (e) {
        if (cancelled) return;
        setError(e);
        // Not signed in, not yours, no such purchase: asking again will not change that.
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429) return;
      }
      if (Date.now() - startedAt >= PURCHASE_POLL_FOR_MS) {
        setGaveUp(true);
        settled.current();
        return;
      }
      timer = window.setTimeout(() => void check(), PURCHASE_POLL_MS);
    };

    void check();
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [purchaseId, round]);

  const checkAgain = useCallback(() => setRound((n) => n + 1), []);
  return { purchase, error, gaveUp, checkAgain };
}
