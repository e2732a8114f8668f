import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** The repository's root folder, where firebase.json and the firebase-tools binary are. */
const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Runs the real firebase-tools emulators (the project's own dev dependency, never a global install) and stops
 * them cleanly: SIGINT first, so the CLI can export emulator data and stop its function workers; SIGKILL to
 * the whole process group only if it hangs.
 */

interface EmulatorOptions {
  readonly only: readonly string[];
  readonly projectId: string;
  /** A firebase.json; its folder is the project folder (functions source paths are relative to it). */
  readonly configFile: string;
  readonly importDirectory?: string;
  readonly exportDirectory?: string;
  readonly environment: NodeJS.ProcessEnv;
  /** Show the emulators' output on this terminal; otherwise it is kept for error reports. */
  readonly echo: boolean;
}

export interface EmulatorProcess {
  readonly exited: Promise<number | null>;
  output(): string;
  stop(): Promise<void>;
}

export function spawnEmulators(options: EmulatorOptions): EmulatorProcess {
  const args = [
    "emulators:start",
    "--only",
    options.only.join(","),
    "--project",
    options.projectId,
    "--config",
    options.configFile,
  ];
  if (options.importDirectory !== undefined) args.push("--import", options.importDirectory);
  if (options.exportDirectory !== undefined) args.push("--export-on-exit", options.exportDirectory);
  const child: ChildProcess = spawn(join(repositoryRoot, "node_modules", ".bin", "firebase"), args, {
    cwd: repositoryRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...options.environment, FORCE_COLOR: "0", NO_UPDATE_NOTIFIER: "1" },
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-200_000);
    if (options.echo) process.stdout.write(text);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  return {
    exited,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.pid === undefined) return;
      child.kill("SIGINT");
      const timer = setTimeout(() => {
        try {
          process.kill(-(child.pid ?? 0), "SIGKILL");
        } catch {
          // already gone
        }
      }, 20_000);
      await exited;
      clearTimeout(timer);
      try {
        // Function workers run in the CLI's process group; make sure none outlives it.
        process.kill(-(child.pid ?? 0), "SIGKILL");
      } catch {
        // the group is already empty
      }
    },
  };
}

/** Polls `ready` until it holds, failing early if the emulators exit and with their output on timeout. */
export async function waitUntil(
  ready: () => Promise<boolean>,
  emulators: EmulatorProcess,
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void emulators.exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`The emulators exited (code ${String(exitCode)}) before ${what}:\n${emulators.output()}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      await emulators.stop();
      throw new Error(`Timed out waiting for ${what}:\n${emulators.output()}`);
    }
    await sleep(250);
  }
}
