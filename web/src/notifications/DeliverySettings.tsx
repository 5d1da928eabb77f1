// Settings → Notifications: Web Push for this browser, and e-mail (address and kinds).
import { useEffect, useMemo, useReducer, useState, type FormEvent } from "react";
import { deliveryApi } from "../api/client";
import { errorMessage, formErrorMessage } from "../api/problem";
import type { EmailSettings } from "../api/types";
import { FormError } from "../components/FormError";
import {
  EMAIL_KINDS,
  emailStatus,
  emailStatusText,
  openedFromConfirmation,
  plausibleEmail,
  withKind,
} from "./deliverySettings";
import {
  browserPushEnv,
  checkPush,
  initialPushState,
  pushReducer,
  switchView,
  turnOff,
  turnOn,
} from "./pushSubscription";

export function DeliverySettings() {
  return (
    <section className="delivery-settings" aria-labelledby="delivery-heading">
      <h2 id="delivery-heading">Notifications</h2>
      <p className="muted small">
        Everything you are told is in the app. It can also reach you while Salon is closed.
      </p>
      <BrowserPush />
      <EmailNotifications />
    </section>
  );
}

function pushError(error: unknown): string {
  if (error instanceof DOMException && error.name === "NotAllowedError") {
    return "The browser did not allow notifications from this site.";
  }
  if (error instanceof DOMException) {
    return `This browser could not subscribe to notifications (${error.message || error.name}).`;
  }
  return errorMessage(error);
}

/** "Notify this browser": a switch over pushSubscription.ts. */
function BrowserPush() {
  const env = useMemo(() => browserPushEnv(deliveryApi), []);
  const [state, dispatch] = useReducer(pushReducer, initialPushState);
  const view = switchView(state);

  useEffect(() => {
    let current = true;
    checkPush(env).then(
      (result) => current && dispatch({ type: "settled", result }),
      (error: unknown) => current && dispatch({ type: "failed", message: pushError(error) }),
    );
    return () => {
      current = false;
    };
  }, [env]);

  async function toggle(on: boolean) {
    if (view.disabled) return;
    const endpoint = state.status === "on" ? state.endpoint : null;
    dispatch({ type: "toggle", on });
    try {
      dispatch({ type: "settled", result: on ? await turnOn(env) : await turnOff(env, endpoint) });
    } catch (error) {
      dispatch({ type: "failed", message: pushError(error) });
    }
  }

  if (state.status === "unsupported") {
    return (
      <p className="hint" data-testid="push-note">
        This browser cannot show notifications from Salon while it is closed (it has no Web
        Push here).
      </p>
    );
  }
  if (state.status === "unavailable") {
    return (
      <p className="hint" data-testid="push-note">
        This Salon does not send browser notifications.
      </p>
    );
  }
  const error = "error" in state ? (state.error ?? null) : null;
  const note = state.status === "off" ? (state.note ?? null) : null;
  return (
    <div className="delivery-push">
      <label className="switch-row">
        <input
          type="checkbox"
          role="switch"
          checked={view.checked}
          disabled={view.disabled}
          aria-busy={view.busy}
          aria-describedby="push-hint"
          onChange={(e) => void toggle(e.target.checked)}
        />
        <span>Notify this browser</span>
      </label>
      <p className="hint" id="push-hint" data-testid="push-state">
        {state.status === "denied"
          ? "Notifications from this site are blocked in this browser's settings; allow them there to turn this on."
          : state.status === "on"
            ? "On: this browser shows what you are told, even when Salon is not open."
            : state.status === "turning-on"
              ? "Turning on…"
              : state.status === "turning-off"
                ? "Turning off…"
                : state.status === "checking"
                  ? "Checking this browser…"
                  : "Off: you are told only in the app."}
      </p>
      {note ? <p className="hint">{note}</p> : null}
      <FormError message={error} />
    </div>
  );
}

/** E-mail: the address (confirmed by a link) and one checkbox per kind. */
function EmailNotifications() {
  const [settings, setSettings] = useState<EmailSettings | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [address, setAddress] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [fromLink] = useState(() => openedFromConfirmation(window.location.search));

  useEffect(() => {
    deliveryApi.email().then(
      (loaded) => {
        setSettings(loaded);
        setAddress(loaded.email ?? "");
      },
      (e: unknown) => setLoadError(errorMessage(e)),
    );
  }, []);

  if (loadError) return <FormError message={loadError} />;
  if (!settings) return null;
  const status = emailStatus(settings, fromLink);
  if (status.kind === "off") {
    return (
      <p className="hint" data-testid="email-note">
        This Salon does not send e-mail, so there is nothing to set up here.
      </p>
    );
  }

  async function change(
    run: () => Promise<EmailSettings>,
    updateAddress: boolean,
    before?: EmailSettings,
  ) {
    setBusy(true);
    setError(null);
    try {
      const answer = await run();
      setSettings(answer);
      if (updateAddress) setAddress(answer.email ?? "");
    } catch (e) {
      if (before) setSettings(before);
      setError(formErrorMessage(e, { email: "That does not look like an e-mail address." }));
    } finally {
      setBusy(false);
    }
  }

  function saveAddress(event: FormEvent) {
    event.preventDefault();
    if (!plausibleEmail(address)) {
      setError("That does not look like an e-mail address.");
      return;
    }
    void change(() => deliveryApi.setEmail(address.trim()), true);
  }

  const current = settings;
  return (
    <div className="delivery-email">
      <form className="form" noValidate onSubmit={saveAddress}>
        <label htmlFor="delivery-email">E-mail address</label>
        <input
          id="delivery-email"
          type="email"
          autoComplete="email"
          value={address}
          onChange={(e) => setAddress(e.target.value)}
        />
        <p
          className={status.kind === "confirmed" && status.justNow ? "form-ok" : "hint"}
          role="status"
          data-testid="email-status"
        >
          {emailStatusText(status)}
        </p>
        <FormError message={error} />
        <div className="form-row">
          <button
            type="submit"
            className="button"
            disabled={busy || address.trim() === (current.email ?? "")}
          >
            {current.email ? "Change address" : "Add address"}
          </button>
          {current.email ? (
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => void change(() => deliveryApi.setEmail(null), true)}
            >
              Remove address
            </button>
          ) : null}
        </div>
      </form>
      <fieldset className="delivery-kinds" disabled={busy}>
        <legend>E-mail me when…</legend>
        {EMAIL_KINDS.map(({ kind, label }) => (
          <label key={kind} className="inline">
            <input
              type="checkbox"
              checked={current.kinds.includes(kind)}
              onChange={(e) => {
                // Shown at once; the server's answer (or the old choice, on an error) follows.
                const kinds = withKind(current.kinds, kind, e.target.checked);
                setSettings({ ...current, kinds });
                void change(() => deliveryApi.setEmailKinds(kinds), false, current);
              }}
            />
            {label}
          </label>
        ))}
        {status.kind !== "confirmed" ? (
          <p className="hint">Nothing is e-mailed until an address is confirmed.</p>
        ) : null}
      </fieldset>
    </div>
  );
}
