/**
 * The reference web client's entry point: loads the runtime settings, signs in with Firebase Auth (the Auth
 * emulator locally), and shows the sign-in form or the workspace as the Auth state changes. The API is called
 * directly at the backend URL, never through a Hosting rewrite, which would buffer the streamed answers.
 */
import { initializeApp } from "firebase/app";
import {
  browserLocalPersistence,
  connectAuthEmulator,
  indexedDBLocalPersistence,
  initializeAuth,
  onAuthStateChanged,
  signOut,
} from "firebase/auth";
import { ApiClient, ApiError } from "./api-client.ts";
import { loadAppConfig } from "./app-config.ts";
import { byId } from "./dom.ts";
import { MaskEditor } from "./mask-editor.ts";
import { SignInPanel } from "./sign-in-panel.ts";
import { Workspace } from "./workspace.ts";

async function main(): Promise<void> {
  const boot = byId("boot-status", HTMLParagraphElement);
  const config = await loadAppConfig();
  const app = initializeApp(config.firebase);
  // No popup/redirect resolver: this client signs in with email or as a guest, and loads no Google frames.
  const auth = initializeAuth(app, { persistence: [indexedDBLocalPersistence, browserLocalPersistence] });
  if (config.authEmulatorUrl !== undefined) {
    connectAuthEmulator(auth, config.authEmulatorUrl, { disableWarnings: true });
  }
  const api = new ApiClient(config.backendUrl, async () => {
    const user = auth.currentUser;
    if (user === null) throw new ApiError(401, "unauthenticated", "Not signed in");
    return user.getIdToken();
  });
  const signIn = new SignInPanel(auth);
  const workspace = new Workspace(api, new MaskEditor());
  const account = byId("account", HTMLElement);
  const accountName = byId("account-name", HTMLSpanElement);
  byId("sign-out", HTMLButtonElement).addEventListener("click", () => void signOut(auth));

  onAuthStateChanged(auth, (user) => {
    boot.hidden = true;
    if (user === null) {
      account.hidden = true;
      workspace.hide();
      signIn.show();
      return;
    }
    const emulator = config.authEmulatorUrl === undefined ? "" : " (local Auth emulator)";
    accountName.textContent = `Signed in as ${user.isAnonymous ? "a guest" : (user.email ?? "you")}${emulator}`;
    account.hidden = false;
    signIn.hide();
    void workspace.show();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  byId("boot-status", HTMLParagraphElement).textContent =
    "The app could not start: its settings could not be loaded. Is the local stack running (npm start)?";
});
