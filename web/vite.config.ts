// The dev server proxies the API (and its WebSockets) to a running `salon serve`.
// SALON_API picks another server, e.g. SALON_API=http://127.0.0.1:8010 npm run dev.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

const api = process.env.SALON_API ?? "http://127.0.0.1:8000";

/** Swagger UI for the API docs at /docs (src/salon/api/docs.py), shipped in this build so the
 * docs never load anything from a CDN. Only the two files the page needs are copied from the
 * pinned swagger-ui-dist, content-hashed under assets/ like the app's own files (so they are
 * cached for good), and their names are written to swagger-ui.json for the server to read. */
function swaggerUi(): Plugin {
  const dist = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const files = ["swagger-ui-bundle.js", "swagger-ui.css"];
  const emitted = new Map<string, string>();
  return {
    name: "salon-swagger-ui",
    apply: "build",
    buildStart() {
      for (const file of files) {
        // Their source maps are not shipped: drop the comment that would ask for them.
        const source = readFileSync(path.join(dist, file), "utf8").replace(
          /\n?\/[/*]# sourceMappingURL=[^\s*]+(?: ?\*\/)?\s*$/,
          "\n",
        );
        emitted.set(file, this.emitFile({ type: "asset", name: file, source }));
      }
    },
    generateBundle() {
      const names = Object.fromEntries([...emitted].map(([file, ref]) => [file, this.getFileName(ref)]));
      this.emitFile({
        type: "asset",
        fileName: "swagger-ui.json",
        source: `${JSON.stringify(names, null, 2)}\n`,
      });
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [swaggerUi()],
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
