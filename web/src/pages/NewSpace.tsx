import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, hostingEligibility } from "../api/client";
import { ApiError, errorMessage, formErrorMessage } from "../api/problem";
import type { Eligibility, HostingEligibility } from "../api/types";
import { FormError } from "../components/FormError";
import { parseTicketPrice } from "../lib/money";
import { CAP_MAX, FEE_RULE, parseTicketCap } from "../lib/tickets";
import { localInputToIso, parseTopics, toLocalInput } from "../lib/time";
import { useTitle } from "../lib/useTitle";
import { Link, navigate } from "../router";
import { useSession } from "../session";
import { CharCount } from "../components/CharCount";

const HOUR_MS = 3600_000;

export function NewSpace() {
  useTitle("Start a space");
  const { me, loading } = useSession();
  const [title, setTitle] = useState("");
  const [topics, setTopics] = useState("");
  const [when, setWhen] = useState<"now" | "later">("now");
  const [startTime, setStartTime] = useState(() => toLocalInput(new Date(Date.now() + HOUR_MS)));
  const [recording, setRecording] = useState(false);
  const [selling, setSelling] = useState(false);
  const [price, setPrice] = useState("");
  const [cap, setCap] = useState("");
  const [error, setError] = useState<{ message: string; forbidden: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const eligibility = useEligibility(me?.id ?? null);
  const hosting = useHosting(me?.id ?? null);

  if (loading) return <main className="page narrow" id="main" />;
  if (!me) {
    return (
      <main className="page narrow" id="main">
        <h1>Start a space</h1>
        <p>
          <Link href="/signin?next=/spaces/new">Sign in</Link> or{" "}
          <Link href="/signup?next=/spaces/new">create an account</Link> to host a space.
        </p>
      </main>
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    // No length check here: the counter shows it, and the server's 422 says the limit.
    let ticket: { price_cents: number; cap: number } | undefined;
    if (selling) {
      const priceCents = parseTicketPrice(price);
      if (!priceCents.ok) {
        setError({ message: priceCents.message, forbidden: false });
        return;
      }
      const seats = parseTicketCap(cap);
      if (!seats.ok) {
        setError({ message: seats.message, forbidden: false });
        return;
      }
      ticket = { price_cents: priceCents.value, cap: seats.value };
    }
    let scheduledFor: string | undefined;
    if (when === "later" || selling) {
      const iso = localInputToIso(startTime);
      if (!iso) {
        setError({ message: "Pick a start time.", forbidden: false });
        return;
      }
      scheduledFor = iso;
    }
    setBusy(true);
    try {
      const space = await api.createSpace({
        title: title.trim(),
        topics: parseTopics(topics),
        recording,
        ...(scheduledFor ? { scheduled_for: scheduledFor } : {}),
        ...(ticket ? { ticket } : {}),
      });
      navigate(`/spaces/${encodeURIComponent(space.id)}`);
    } catch (e) {
      const ticketProblem =
        e instanceof ApiError && e.status === 422 && e.fieldErrors.some((f) => f.loc.includes("ticket"));
      setError({
        // A ticket the server refused: its own words (the client checks the same ranges).
        message: ticketProblem
          ? `The ticket price or number is not accepted: ${errorMessage(e)}`
          : formErrorMessage(e, {
              title: "A title is 1 to 70 characters.",
              topics: "Up to 3 topics of 1 to 30 characters each.",
            }),
        forbidden: e instanceof ApiError && e.status === 403,
      });
      setBusy(false);
    }
  }

  if (hosting && !hosting.can_host) {
    // The follower rule, up front: no form to fill for a refusal at the end of it.
    return (
      <main className="page narrow" id="main">
        <h1>Start a space</h1>
        <HostingRule hosting={hosting} handle={me.handle} />
      </main>
    );
  }

  return (
    <main className="page narrow" id="main">
      <h1>Start a space</h1>
      {hosting && !hosting.exempt && hosting.followers_needed > 0 && (
        <p className="hint hosting-ok" data-testid="hosting-rule">
          Hosting needs {followersText(hosting.followers_needed)}; you have {hosting.followers}.
        </p>
      )}
      <form className="form" noValidate onSubmit={submit}>
        <label htmlFor="space-title">Title</label>
        <input
          id="space-title"
          required
          value={title}
          aria-describedby="space-title-hint"
          onChange={(e) => setTitle(e.target.value)}
          placeholder="What do you want to talk about?"
        />
        <p className="hint" id="space-title-hint">
          Up to 70 characters. <CharCount value={title} max={70} />
        </p>
        <label htmlFor="space-topics">Topics</label>
        <input
          id="space-topics"
          aria-describedby="space-topics-hint"
          value={topics}
          onChange={(e) => setTopics(e.target.value)}
          placeholder="music, tech, news"
        />
        <p className="hint" id="space-topics-hint">
          Up to 3, separated by commas, each up to 30 characters.
        </p>
        <TicketFields
          eligibility={eligibility}
          selling={selling}
          onSelling={(on) => {
            setSelling(on);
            if (on) setWhen("later");
          }}
          price={price}
          onPrice={setPrice}
          cap={cap}
          onCap={setCap}
        />
        <fieldset className="choice" aria-describedby={selling ? "ticket-schedule-hint" : undefined}>
          <legend>When</legend>
          <label className="inline">
            <input
              type="radio"
              name="when"
              value="now"
              checked={when === "now"}
              disabled={selling}
              onChange={() => setWhen("now")}
            />
            Start now
          </label>
          <label className="inline">
            <input
              type="radio"
              name="when"
              value="later"
              checked={when === "later"}
              onChange={() => setWhen("later")}
            />
            Schedule
          </label>
        </fieldset>
        {selling && (
          <p className="hint" id="ticket-schedule-hint">
            Ticketed spaces are scheduled ahead and can't be rescheduled.
          </p>
        )}
        {when === "later" && (
          <>
            <label htmlFor="space-start">Start time</label>
            <input
              id="space-start"
              type="datetime-local"
              required
              value={startTime}
              min={toLocalInput(new Date())}
              max={toLocalInput(new Date(Date.now() + 14 * 24 * HOUR_MS))}
              onChange={(e) => setStartTime(e.target.value)}
              aria-describedby="space-start-hint"
            />
            <p className="hint" id="space-start-hint">
              Your local time; up to 14 days ahead.
            </p>
          </>
        )}
        <label className="inline checkbox">
          <input
            type="checkbox"
            checked={recording}
            onChange={(e) => setRecording(e.target.checked)}
          />
          Record this space
        </label>
        {error &&
          (error.forbidden ? (
            <div className="notice notice-warn" role="alert">
              <strong>{selling ? "You can’t sell tickets yet." : "You can’t host yet."}</strong>{" "}
              {error.message}
            </div>
          ) : (
            <FormError message={error.message} />
          ))}
        <button type="submit" className="button button-primary" disabled={busy}>
          {when === "now" ? "Start space" : "Schedule space"}
        </button>
      </form>
    </main>
  );
}

function followersText(count: number): string {
  return `${count} ${count === 1 ? "follower" : "followers"}`;
}

/** Why one cannot host yet, and how far there is to go. */
function HostingRule({ hosting, handle }: { hosting: HostingEligibility; handle: string }) {
  return (
    <section className="notice notice-warn hosting-rule" data-testid="hosting-rule" aria-labelledby="hosting-rule-heading">
      <h2 id="hosting-rule-heading">You can’t host yet</h2>
      <p>
        Hosting a space on this Salon needs {followersText(hosting.followers_needed)}. You have{" "}
        {hosting.followers}: <strong>{hosting.to_go} to go</strong>.
      </p>
      <p>
        Meanwhile you can listen, react and ask to speak in others’ spaces.{" "}
        <Link href={`/users/${encodeURIComponent(handle)}`}>Your profile</Link> ·{" "}
        <Link href="/">Live spaces</Link>
      </p>
    </section>
  );
}

/** GET /api/me/hosting once signed in; null while asking, or if it could not be asked (then
 * the form shows, and the server's answer to it says the rule). */
function useHosting(meId: number | null): HostingEligibility | null {
  const [value, setValue] = useState<HostingEligibility | null>(null);
  useEffect(() => {
    if (meId === null) return;
    let cancelled = false;
    hostingEligibility().then(
      (found) => !cancelled && setValue(found),
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [meId]);
  return value;
}

interface EligibilityState {
  value: Eligibility | null;
  error: string | null;
  /** Ask again (after attesting). */
  reload: () => void;
}

function useEligibility(meId: number | null): EligibilityState {
  const [value, setValue] = useState<Eligibility | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (meId === null) return;
    let cancelled = false;
    api.ticketEligibility().then(
      (found) => {
        if (cancelled) return;
        setValue(found);
        setError(null);
      },
      (e: unknown) => !cancelled && setError(errorMessage(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [meId, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { value, error, reload };
}

interface TicketFieldsProps {
  eligibility: EligibilityState;
  selling: boolean;
  onSelling: (on: boolean) => void;
  price: string;
  onPrice: (value: string) => void;
  cap: string;
  onCap: (value: string) => void;
}

/** "Sell tickets" for a host who may; otherwise what is missing, and the 18+ attestation. */
function TicketFields({ eligibility, selling, onSelling, price, onPrice, cap, onCap }: TicketFieldsProps) {
  const { setMe } = useSession();
  const [attesting, setAttesting] = useState(false);
  const [attestError, setAttestError] = useState<string | null>(null);
  const found = eligibility.value;
  if (!found) return null; // still asking, or could not ask: creating a free space still works

  async function attest() {
    setAttesting(true);
    setAttestError(null);
    try {
      setMe(await api.updateMe({ adult_attested: true }));
      eligibility.reload();
    } catch (e) {
      setAttestError(errorMessage(e));
    } finally {
      setAttesting(false);
    }
  }

  if (!found.eligible) {
    return (
      <div className="ticket-eligibility">
        <p className="hint">Selling tickets is not open to you yet.</p>
        <details className="disclosure">
          <summary>Why can't I sell tickets?</summary>
          <p>To sell tickets, you need an admin’s grant, or to:</p>
          <ul>
            {found.reasons.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
        </details>
        {!found.adult_attested && (
          <div className="form-row">
            <button
              type="button"
              className="button button-small"
              disabled={attesting}
              onClick={() => void attest()}
            >
              I am 18 or older
            </button>
            <span className="hint">Selling tickets is for adults.</span>
          </div>
        )}
        <FormError message={attestError} />
      </div>
    );
  }

  return (
    <>
      <label className="inline checkbox">
        <input type="checkbox" checked={selling} onChange={(e) => onSelling(e.target.checked)} />
        Sell tickets
      </label>
      {selling && (
        <div className="ticket-fields">
          <label htmlFor="ticket-price">Ticket price (USD)</label>
          <input
            id="ticket-price"
            inputMode="decimal"
            autoComplete="off"
            value={price}
            placeholder="5.00"
            aria-describedby="ticket-price-hint"
            onChange={(e) => onPrice(e.target.value)}
          />
          <p className="hint" id="ticket-price-hint">
            $1.00 to $999.00. Salon’s fee: {FEE_RULE}.
          </p>
          <label htmlFor="ticket-cap">Tickets available</label>
          <input
            id="ticket-cap"
            type="number"
            inputMode="numeric"
            min={1}
            max={CAP_MAX}
            step={1}
            value={cap}
            placeholder="100"
            onChange={(e) => onCap(e.target.value)}
          />
        </div>
      )}
    </>
  );
}
