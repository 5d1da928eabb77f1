import { useEffect, useState } from "react";
import { api } from "../api/client";
import { errorMessage } from "../api/problem";
import type { Eligibility, MyTicket, SpaceState, StatementLine, TicketStatement } from "../api/types";
import { FormError } from "../components/FormError";
import { formatUsd, groupThousands } from "../lib/money";
import { FEE_RULE } from "../lib/tickets";
import { formatWhen } from "../lib/time";
import { useTitle } from "../lib/useTitle";
import { Link } from "../router";
import { useSession } from "../session";

const STATE_WORD: Record<SpaceState, string> = {
  scheduled: "Scheduled",
  live: "Live",
  ended: "Ended",
  cancelled: "Cancelled",
};

const spaceHref = (id: string) => `/spaces/${encodeURIComponent(id)}`;

/** One's tickets, and (for a host who sells) the ticket sales statement. */
export function Tickets() {
  useTitle("Tickets");
  const { me, loading } = useSession();
  const [mine, setMine] = useState<MyTicket[] | null>(null);
  const [statement, setStatement] = useState<TicketStatement | null>(null);
  const [eligibility, setEligibility] = useState<Eligibility | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!me) return;
    let cancelled = false;
    setError(null);
    Promise.all([api.myTickets(), api.ticketStatement(), api.ticketEligibility()]).then(
      ([tickets, sales, may]) => {
        if (cancelled) return;
        setMine(tickets);
        setStatement(sales);
        setEligibility(may);
      },
      (e: unknown) => !cancelled && setError(errorMessage(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [me?.id]);

  if (loading) return <main className="page" id="main" />;
  if (!me) {
    return (
      <main className="page narrow" id="main">
        <h1>Tickets</h1>
        <p>
          <Link href="/signin?next=/tickets">Sign in</Link> to see your tickets.
        </p>
      </main>
    );
  }

  const sells = statement !== null && (statement.spaces.length > 0 || eligibility?.eligible === true);
  return (
    <main className="page tickets-page" id="main">
      <h1>Tickets</h1>
      <FormError message={error} />
      {!error && (mine === null || statement === null) && <p className="muted">Loading…</p>}
      {statement && sells && <SalesStatement statement={statement} />}
      {mine && <MyTickets tickets={mine} />}
      {statement && !sells && (
        <p className="muted small">
          You don’t sell tickets yet. <Link href="/spaces/new">What selling tickets needs</Link>
        </p>
      )}
    </main>
  );
}

function SalesStatement({ statement }: { statement: TicketStatement }) {
  const { total } = statement;
  return (
    <section className="sales" id="sales" aria-labelledby="sales-heading">
      <h2 id="sales-heading">Ticket sales</h2>
      <p className="fee-rule">
        Salon’s fee: {FEE_RULE}. Your current rate: <strong>{statement.fee_rate_percent}%</strong>{" "}
        <span className="muted">
          (lifetime earnings {formatUsd(statement.earnings_cents)})
        </span>
      </p>
      <dl className="totals" aria-label="Totals">
        <Total term="Tickets sold" value={groupThousands(total.tickets_sold)} />
        <Total term="Gross" value={formatUsd(total.gross_cents)} />
        <Total term="Refunds" value={refundsText(total)} />
        <Total term="Fees" value={formatUsd(total.fees_cents)} />
        <Total term="Net" value={formatUsd(total.net_cents)} strong />
      </dl>
      {statement.spaces.length === 0 ? (
        <p className="muted">No ticketed spaces yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="statement">
            <caption className="visually-hidden">Ticket sales per space</caption>
            <thead>
              <tr>
                <th scope="col">Space</th>
                <th scope="col">State</th>
                <th scope="col" className="num">Price</th>
                <th scope="col" className="num">Sold</th>
                <th scope="col" className="num">Gross</th>
                <th scope="col" className="num">Refunds</th>
                <th scope="col" className="num">Fees</th>
                <th scope="col" className="num">Net</th>
              </tr>
            </thead>
            <tbody>
              {statement.spaces.map((line) => (
                <tr key={line.space_id}>
                  <th scope="row">
                    <Link href={spaceHref(line.space_id)}>{line.title}</Link>
                  </th>
                  <td>{STATE_WORD[line.state]}</td>
                  <td className="num">{formatUsd(line.price_cents)}</td>
                  <td className="num">{groupThousands(line.tickets_sold)}</td>
                  <td className="num">{formatUsd(line.gross_cents)}</td>
                  <td className="num">{refundsText(line)}</td>
                  <td className="num">{formatUsd(line.fees_cents)}</td>
                  <td className="num">
                    <strong>{formatUsd(line.net_cents)}</strong>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function refundsText(line: StatementLine): string {
  return line.refunds === 0 ? "—" : `${groupThousands(line.refunds)} · ${formatUsd(line.refunded_cents)}`;
}

function Total({ term, value, strong }: { term: string; value: string; strong?: boolean }) {
  return (
    <div className={`total ${strong ? "total-strong" : ""}`}>
      <dt>{term}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function MyTickets({ tickets }: { tickets: MyTicket[] }) {
  return (
    <section className="my-tickets" id="my-tickets" aria-labelledby="my-tickets-heading">
      <h2 id="my-tickets-heading">My tickets</h2>
      {tickets.length === 0 ? (
        <p className="muted">You have no tickets yet.</p>
      ) : (
        <ul className="ticket-list">
          {tickets.map((t) => (
            <li key={t.purchase_id} className="ticket-item">
              <Link href={spaceHref(t.space_id)} className="ticket-item-title">
                {t.title}
              </Link>
              <span className="muted small">
                {t.space_state === "scheduled" && t.scheduled_for
                  ? `Starts ${formatWhen(t.scheduled_for)}`
                  : t.space_state === "live"
                    ? "Live now"
                    : t.space_state === "cancelled"
                      ? "Cancelled · refunded"
                      : STATE_WORD[t.space_state]}
                {" · "}
                {formatUsd(t.amount_cents)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
