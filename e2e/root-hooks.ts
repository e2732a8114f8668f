import { stopLocalStack } from "./local-stack-fixture.ts";

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await stopLocalStack();
  },
};
