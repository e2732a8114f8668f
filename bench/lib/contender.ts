import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { MemoryCgroup } from "./memory-cgroup.ts";

export interface ContenderStats {
  readonly cpuMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly eventLoopP99Ms: number;
  readonly eventLoopMaxMs: number;
  /** Ours with store latency: round trips the last chat request waited for in sequence before calling the model. */
  readonly roundTripsBeforeProvider?: number;
}

export interface Contender {
  readonly url: string;
  /** With `collect`, memory is read after a full garbage collection (what the process retains). */
  stats(options?: { collect?: boolean }): Promise<ContenderStats>;
  /** Garbage-collects (the child runs with --expose-gc) and restarts the event-loop delay histogram. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL("../bench-server.ts", import.meta.url));

/** `floor` writes each event; `floor-batched` writes a tick's events together, as our SSE writer does. */
export type ContenderKind = "ours" | "floor" | "floor-batched" | "peer" | "genkit";

/**
 * Starts a benchmark contender in its own process, with extra Node flags if given (and `BENCH_NODE_FLAGS`), and
 * inside a memory cgroup if given one (see `memory-cgroup.ts`).
 */
export async function startContender(
  kind: ContenderKind,
  environment: Record<string, string>,
  nodeFlags: readonly string[] = [],
  cgroup?: MemoryCgroup,
): Promise<Contender> {
  const command = [
    process.execPath,
    "--disable-warning=ExperimentalWarning",
    "--expose-gc",
    ...(process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean),
    ...nodeFlags,
    script,
  ];
  const [file, ...args] =
    cgroup === undefined
      ? command
      : // The shell joins the cgroup, then becomes Node: the contender is in it from its first allocation.
        ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', cgroup.procsFile, ...command];
  const child: ChildProcess = spawn(file ?? process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...environment, BENCH_KIND: kind },
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${kind} contender exited (${String(code)})`)));
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      const match = /listening (\S+)/.exec(text);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
  });
  return {
    url,
    stats: async (options) =>
      (await (
        await fetch(`${url}/__bench/stats${options?.collect === true ? "?collect=1" : ""}`)
      ).json()) as ContenderStats,
    reset: async () => {
      await fetch(`${url}/__bench/reset`, { method: "POST" });
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      // Ask first (a profile is written on a clean exit), then insist.
      await fetch(`${url}/__bench/exit`, { method: "POST" }).catch(() => undefined);
      const timer = setTimeout(() => child.kill("SIGKILL"), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
