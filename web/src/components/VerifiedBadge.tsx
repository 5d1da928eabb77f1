export function VerifiedBadge({ verified }: { verified: boolean }) {
  if (!verified) return null;
  return (
    <span className="verified" role="img" aria-label="Verified" title="Verified">
      <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
        <path
          fill="currentColor"
          d="M8 0l2 1.6 2.5-.3.9 2.4 2.3 1.1-.4 2.5L16 9.4l-1.6 2 .3 2.5-2.4.9-1.1 2.3-2.5-.4L8 16l-2-1.6-2.5.3-.9-2.4L.3 11.2l.4-2.5L0 6.6l1.6-2-.3-2.5 2.4-.9L4.8.9l2.5.4z"
        />
        <path fill="#fff" d="M6.8 11.2L3.9 8.3l1.1-1.1 1.8 1.8 4.2-4.2 1.1 1.1z" />
      </svg>
    </span>
  );
}
