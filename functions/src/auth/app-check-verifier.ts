import type { App } from "firebase-admin/app";
import type { AppCheck } from "firebase-admin/app-check";

/** Verifies a Firebase App Check token (`X-Firebase-AppCheck`); throws when it is not valid. */
export interface AppCheckVerifier {
  verify(token: string): Promise<void>;
}

export class FirebaseAppCheckVerifier implements AppCheckVerifier {
  readonly #appCheck: Promise<AppCheck>;

  constructor(app: App) {
    this.#appCheck = import("firebase-admin/app-check").then(({ getAppCheck }) => getAppCheck(app));
  }

  async verify(token: string): Promise<void> {
    await (await this.#appCheck).verifyToken(token);
  }
}
