// The dev server proxies the API (and its WebSockets) to a running `salon serve`.
// SALON_API picks another server, e.g. SALON_API=http://127.0.0.1:8010 npm run dev.
import { defineConfig } from "vitest/config";

const api = process.env.SALON_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  build: {
    // The Python package serves this folder at "/" (see src/salon/web).
    outDir: "../src/salon/web",
    emptyOutDir: true,
  },
  server: {
    proxy: {
      // changeOrigin stays false: the server refuses state-changing requests whose Origin
      // is not its own Host, so the browser's Host must reach it unchanged.
      "/api": { target: api, ws: true, changeOrigin: false },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
