import { useState, type ReactNode } from "react";
import { api } from "../api/client";
import { ApiError, errorMessage } from "../api/problem";
import type { SpaceView, TicketInfo } from "../api/types";
import { formatUsd, groupThousands } from "../lib/money";
import { buyLabel, purchaseOutcome, ticketsLeftText } from "../lib/tickets";
import { Link } from "../router";
import type { PurchaseCheck } from "./usePurchase";

interface Props {
  space: SpaceView;
  ticket: TicketInfo;
  meId: number | null;
  isHost: boolean;
  /** Coming back from the checkout (`?purchase=`); null otherwise. */
  check: PurchaseCheck | null;
  /** The server said something changed (a 409): fetch the space again. */
  onStale: () => void;
}

/** A ticketed space's price and seats, and the viewer's ticket: have one, or buy one. */
export function TicketPanel({ space, ticket, meId, isHost, check, onStale }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; signIn: boolean } | null>(null);
  const open = space.state === "scheduled" || space.state === "live";
  const signIn = `/signin?next=/spaces/${encodeURIComponent(space.id)}`;
  const purchase = check?.purchase?.space_id === space.id ? check.purchase : null;
  const outcome = purchase ? purchaseOutcome(purchase.state) : null;
  const justPaid = purchase?.state === "paid";

  async function buy() {
    setBusy(true);
    setError(null);
    try {
      const started = await api.buyTicket(space.id);
      if (started.checkout_url) window.location.assign(started.checkout_url);
      else setError({ message: "The checkout could not be opened; try again.", signIn: false });
    } catch (e) {
      setError({ message: errorMessage(e), signIn: e instanceof ApiError && e.status === 401 });
      if (e instanceof ApiError && e.status === 409) onStale();
    } finally {
      setBusy(false);
    }
  }

  let standing: ReactNode;
  if (isHost) {
    standing = (
      <p className="muted small">
        You’re the host · {groupThousands(ticket.cap)} {ticket.cap === 1 ? "ticket" : "tickets"} in all ·{" "}
        <Link href="/tickets">Sales statement</Link>
      </p>
    );
  } else if (!open) {
    standing =
      ticket.have_ticket || justPaid ? (
        <p className="ticket-mine">
          {space.state === "cancelled" ? "This space was cancelled: your ticket is refunded." : "You have a ticket"}
        </p>
      ) : (
        <p className="muted">Tickets are no longer sold.</p>
      );
  } else if (ticket.have_ticket) {
    // Just paid: the outcome above already says so, once.
    standing = justPaid ? null : (
      <p className="ticket-mine">
        <span aria-hidden="true">✓ </span>You have a ticket
      </p>
    );
  } else if (ticket.admitted) {
    standing = <p className="muted small">You’re a guest of the host: no ticket needed.</p>;
  } else {
    const soldOut = ticket.tickets_left <= 0;
    standing = (
      <>
        <p className="ticket-only">This space is for ticket holders.</p>
        {meId === null ? (
          <p>
            <Link href={signIn}>Sign in</Link> to buy a ticket.
          </p>
        ) : (
          !justPaid && (
            <button
              type="button"
              className="button button-primary"
              disabled={busy || soldOut}
              aria-describedby="ticket-left"
              onClick={() => void buy()}
            >
              {buyLabel(ticket)}
            </button>
          )
        )}
      </>
    );
  }
  // Once the space is over, a payment's "you have a ticket" is old news (the line above says).
  const showOutcome = outcome !== null && purchase !== null && !(justPaid && !open);

  return (
    <section className="ticket-panel" aria-labelledby="ticket-heading">
      <div className="ticket-terms">
        <h2 id="ticket-heading" className="ticket-heading">
          Ticket
        </h2>
        <span className="ticket-price">{formatUsd(ticket.price_cents)}</span>
        {open && (
          <span id="ticket-left" className={`ticket-left ${ticket.tickets_left <= 0 ? "is-sold-out" : ""}`}>
            {ticketsLeftText(ticket.tickets_left)}
          </span>
        )}
      </div>
      <div role="status" className="ticket-outcome">
        {showOutcome && outcome && purchase && (
          <div className={`notice notice-${outcome.tone}`}>
            <p>
              {check?.gaveUp && purchase.state === "held"
                ? "The payment is still not confirmed."
                : outcome.text}
            </p>
            {purchase.state === "held" && purchase.checkout_url && (
              <p className="small">
                Not paid yet? <a href={purchase.checkout_url}>Return to the checkout</a>
              </p>
            )}
            {check?.gaveUp && purchase.state === "held" && (
              <button type="button" className="button button-small" onClick={check.checkAgain}>
                Check again
              </button>
            )}
          </div>
        )}
        {check?.error != null && (
          <p className="form-error">
            Could not check your payment: {errorMessage(check.error)}
            {check.error instanceof ApiError && check.error.status === 401 && (
              <>
                {" "}
                <Link href={signIn}>Sign in</Link>
              </>
            )}
          </p>
        )}
      </div>
      {standing}
      {error && (
        <p className="form-error" role="alert">
          {error.message}
          {error.signIn && (
            <>
              {" "}
              <Link href={signIn}>Sign in</Link>
            </>
          )}
        </p>
      )}
    </section>
  );
}
