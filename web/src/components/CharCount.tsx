import { countText } from "../lib/text";

/**
 * How long a field's text is, counted as the server counts it, beside its limit. Never a cap:
 * input is not cut (no maxLength); past the limit the count turns red and the server's 422
 * says why on submit.
 */
export function CharCount({ value, max, id }: { value: string; max: number; id?: string }) {
  const { text, over } = countText(value, max);
  return (
    <span id={id} className={`char-count ${over ? "char-count-over" : ""}`} data-testid="char-count">
      {text}
      {over && <span className="visually-hidden"> (over the limit)</span>}
    </span>
  );
}
