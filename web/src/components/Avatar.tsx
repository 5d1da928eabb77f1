import type { UserSummary } from "../api/types";
import { avatarColour, initials } from "../lib/avatar";

/** Initials on the handle's colour; decorative, since the name is always shown beside it. */
export function Avatar({ user, size = "md" }: { user: UserSummary; size?: "sm" | "md" | "lg" }) {
  return (
    <span
      className={`avatar avatar-${size}`}
      style={{ backgroundColor: avatarColour(user.handle) }}
      aria-hidden="true"
    >
      {initials(user.display_name, user.handle)}
    </span>
  );
}
