/**
 * Where each kind of document lives. The layout is Firestore's (and the security rules' and indexes'):
 * everything a user owns sits under `users/{uid}`, so ownership is part of every path and another user's
 * document is simply not found.
 */
export const paths = {
  user: (uid: string) => `users/${uid}`,
  chats: (uid: string) => `users/${uid}/chats`,
  chat: (uid: string, chatId: string) => `users/${uid}/chats/${chatId}`,
  messages: (uid: string) => `users/${uid}/messages`,
  message: (uid: string, messageId: string) => `users/${uid}/messages/${messageId}`,
  requests: (uid: string) => `users/${uid}/requests`,
  request: (uid: string, requestId: string) => `users/${uid}/requests/${requestId}`,
  jobs: (uid: string) => `users/${uid}/jobs`,
  job: (uid: string, jobId: string) => `users/${uid}/jobs/${jobId}`,
  counter: (uid: string, name: string) => `users/${uid}/counters/${name}`,
} as const;

/** The owner of a document under `users/{uid}/...`. */
export function ownerOf(path: string): string {
  const [root, uid] = path.split("/");
  if (root !== "users" || uid === undefined) throw new Error(`Not a user document: ${path}`);
  return uid;
}
