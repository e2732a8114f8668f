import { stopAuthEmulator } from "./auth-emulator.ts";

// Tests talk to servers on loopback only: keep any proxy configured on the machine out of the way (axios, used
// by @tavily/core, honours HTTP(S)_PROXY).
process.env.NO_PROXY = [process.env.NO_PROXY, "127.0.0.1", "localhost"].filter(Boolean).join(",");

/** Mocha root hooks: shared emulators started on first use are stopped once, after the whole run. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(15_000);
    await stopAuthEmulator();
  },
};
