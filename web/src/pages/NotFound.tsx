import { useTitle } from "../lib/useTitle";
import { Link } from "../router";

export function NotFound() {
  useTitle("Not found");
  return (
    <main className="page narrow" id="main">
      <h1>Nothing here</h1>
      <p>
        This page does not exist. <Link href="/">Go to the live spaces</Link>.
      </p>
    </main>
  );
}
