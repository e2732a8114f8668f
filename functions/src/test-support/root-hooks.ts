import { stopAuthEmulator } from "./auth-emulator.ts";

/** Mocha root hooks: shared emulators started on first use are stopped once, after the whole run. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(15_000);
    await stopAuthEmulator();
  },
};
