import {
  createUserWithEmailAndPassword,
  signInAnonymously,
  signInWithEmailAndPassword,
  type Auth,
} from "firebase/auth";
import { byId } from "./dom.ts";

/**
 * The sign-in form: email and password (sign in, or create the account), or a guest (anonymous) account.
 * Success needs no handling here: the page follows the Auth state and swaps the form for the workspace.
 */
export class SignInPanel {
  readonly #panel = byId("sign-in", HTMLElement);
  readonly #form = byId("sign-in-form", HTMLFormElement);
  readonly #email = byId("email", HTMLInputElement);
  readonly #password = byId("password", HTMLInputElement);
  readonly #error = byId("sign-in-error", HTMLParagraphElement);

  constructor(auth: Auth) {
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      const create = event.submitter instanceof HTMLButtonElement && event.submitter.value === "create";
      const email = this.#email.value.trim();
      const password = this.#password.value;
      void this.#attempt(() =>
        create
          ? createUserWithEmailAndPassword(auth, email, password)
          : signInWithEmailAndPassword(auth, email, password),
      );
    });
    byId("guest", HTMLButtonElement).addEventListener("click", () => void this.#attempt(() => signInAnonymously(auth)));
  }

  show(): void {
    this.#panel.hidden = false;
    this.#email.focus();
  }

  hide(): void {
    this.#panel.hidden = true;
    this.#error.textContent = "";
    this.#password.value = "";
  }

  async #attempt(signIn: () => Promise<unknown>): Promise<void> {
    this.#error.textContent = "";
    try {
      await signIn();
    } catch (error) {
      this.#error.textContent = describeAuthError(error);
    }
  }
}

/** Firebase Auth's error codes in plain words. */
function describeAuthError(error: unknown): string {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  switch (code) {
    case "auth/invalid-credential":
    case "auth/wrong-password":
    case "auth/user-not-found":
      return "That email and password do not match an account. Check them, or create an account.";
    case "auth/email-already-in-use":
      return "An account with this email already exists. Sign in instead.";
    case "auth/weak-password":
      return "Choose a password of at least 6 characters.";
    case "auth/invalid-email":
      return "That does not look like an email address.";
    case "auth/too-many-requests":
      return "Too many attempts. Wait a moment and try again.";
    case "auth/network-request-failed":
      return "The sign-in service cannot be reached. Check your connection and try again.";
    default:
      return "Signing in failed. Please try again.";
  }
}
