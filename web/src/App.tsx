import { lazy, Suspense } from "react";
import { Header } from "./components/Header";
import { Admin } from "./pages/Admin";
import { SignIn, SignUp } from "./pages/AuthForms";
import { Home } from "./pages/Home";
import { NewSpace } from "./pages/NewSpace";
import { NotFound } from "./pages/NotFound";
import { Profile } from "./pages/Profile";
import { Settings } from "./pages/Settings";
import { Tickets } from "./pages/Tickets";
import { Tokens } from "./pages/Tokens";
import { matchRoute, usePathname, type Route } from "./router";
import { SessionProvider } from "./session";

// The room (and hls.js with it) loads only when a space is opened.
const RoomPage = lazy(() => import("./room/Room").then((m) => ({ default: m.RoomPage })));

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case "home":
      return <Home />;
    case "signin":
      return <SignIn />;
    case "signup":
      return <SignUp />;
    case "new_space":
      return <NewSpace />;
    case "space":
      return (
        <Suspense fallback={<RoomLoading />}>
          <RoomPage key={route.id} spaceId={route.id} />
        </Suspense>
      );
    case "user":
      return <Profile key={route.handle} handle={route.handle} />;
    case "settings":
      return <Settings />;
    case "tickets":
      return <Tickets />;
    case "tokens":
      return <Tokens />;
    case "admin":
      return <Admin />;
    case "not_found":
      return <NotFound />;
  }
}

function RoomLoading() {
  return (
    <main className="page room" id="main">
      <p role="status" data-testid="connection-state" className="conn conn-connecting">
        Connecting…
      </p>
    </main>
  );
}

export function App() {
  const route = matchRoute(usePathname());
  return (
    <SessionProvider>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <Header />
      <Page route={route} />
    </SessionProvider>
  );
}
