import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Served by the API itself at /dashboard (app/dashboard/router.py). `npx vite` proxies the API
// for development against `scripts/start` on port 8000.
const api = "http://127.0.0.1:8000";

export default defineConfig({
  base: "/dashboard/",
  plugins: [react()],
  server: {
    proxy: { "/api": api, "/auth": api, "/widget": api, "/widget.js": api },
  },
});
