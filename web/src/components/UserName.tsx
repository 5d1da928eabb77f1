import type { UserSummary } from "../api/types";
import { Link } from "../router";
import { VerifiedBadge } from "./VerifiedBadge";

/** Display name (linked to the profile), badge, and @handle. */
export function UserName({ user, link = true }: { user: UserSummary; link?: boolean }) {
  const name = <span className="display-name">{user.display_name}</span>;
  return (
    <span className="user-name">
      {link ? <Link href={`/users/${encodeURIComponent(user.handle)}`}>{name}</Link> : name}
      <VerifiedBadge verified={user.verified} />
      <span className="handle">@{user.handle}</span>
    </span>
  );
}
