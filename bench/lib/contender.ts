import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface ContenderStats {
  readonly cpuMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly eventLoopP99Ms: number;
  readonly eventLoopMaxMs: number;
}

export interface Contender {
  readonly url: string;
  stats(): Promise<ContenderStats>;
  /** Garbage-collects (the child runs with --expose-gc) and restarts the event-loop delay histogram. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL("../bench-server.ts", import.meta.url));

/** Starts a benchmark contender (`ours`, `floor`, `peer`) in its own process. */
export async function startContender(
  kind: "ours" | "floor" | "peer",
  environment: Record<string, string>,
): Promise<Contender> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      "--expose-gc",
      ...(process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean),
      script,
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...environment, BENCH_KIND: kind } },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${kind} contender exited (${String(code)})`)));
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      const match = /listening (\S+)/.exec(text);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
  });
  return {
    url,
    stats: async () => (await (await fetch(`${url}/__bench/stats`)).json()) as ContenderStats,
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
