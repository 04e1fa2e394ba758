import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", "gen/**", "**/cdk.out/**"],
    // Integration tests start real nats-server processes; give a loaded 2-core machine room.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
