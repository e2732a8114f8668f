import { processServices } from "../runtime/process-services.ts";

/** What the `accountDeletion` Auth trigger runs when a user is deleted: everything of theirs goes too. */
export async function handleAccountDeleted(uid: string): Promise<void> {
  const services = await processServices();
  await services.accounts.deleteAccount(uid);
}
