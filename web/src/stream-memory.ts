/**
 * Remembers the answer being streamed in this tab (sessionStorage survives a reload, not a new tab): which
 * message, how many characters arrived (the SSE `id`), and the text so far. After a reload the client shows that
 * text at once and resumes with `Last-Event-ID` from there instead of replaying the whole answer.
 */
export interface StreamProgress {
  readonly chatId: string;
  readonly messageId: string;
  readonly offset: number;
  readonly content: string;
}

const KEY = "atelier.streaming";

export const streamMemory = {
  save(progress: StreamProgress): void {
    sessionStorage.setItem(KEY, JSON.stringify(progress));
  },

  /** What this tab last saw of `messageId`, if it was streaming it. */
  load(messageId: string): StreamProgress | undefined {
    const stored = sessionStorage.getItem(KEY);
    if (stored === null) return undefined;
    const progress = JSON.parse(stored) as StreamProgress;
    return progress.messageId === messageId ? progress : undefined;
  },

  /** The chat whose answer was streaming when the page went away, so a reload can open it again. */
  chatId(): string | undefined {
    const stored = sessionStorage.getItem(KEY);
    return stored === null ? undefined : (JSON.parse(stored) as StreamProgress).chatId;
  },

  forget(messageId: string): void {
    if (this.load(messageId) !== undefined) sessionStorage.removeItem(KEY);
  },

  clear(): void {
    sessionStorage.removeItem(KEY);
  },
};
