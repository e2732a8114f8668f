import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A memory cgroup: processes written to `procsFile` may use at most the limit it was made with. */
export interface MemoryCgroup {
  readonly procsFile: string;
  remove(): void;
}

/**
 * Makes a memory cgroup of `bytes` beneath this process's own (cgroup v1 `memory` controller or cgroup v2), as
 * Cloud Run confines an instance to its memory. Node sizes V8's heap from that limit, so a process started in
 * it runs with the heap an instance of that size gets. Undefined where this machine cannot make one (not root,
 * no writable cgroup file system).
 */
export function createMemoryCgroup(name: string, bytes: number): MemoryCgroup | undefined {
  try {
    const lines = readFileSync("/proc/self/cgroup", "utf8").trim().split("\n");
    const v1 = lines
      .map((line) => line.split(":"))
      .find(([, controllers]) => controllers?.split(",").includes("memory"));
    const folder =
      v1 !== undefined
        ? join("/sys/fs/cgroup/memory", v1[2] ?? "/", name)
        : join("/sys/fs/cgroup", lines.find((line) => line.startsWith("0::"))?.slice(3) ?? "/", name);
    if (!existsSync(folder)) mkdirSync(folder);
    writeFileSync(join(folder, v1 !== undefined ? "memory.limit_in_bytes" : "memory.max"), String(bytes));
    return {
      procsFile: join(folder, "cgroup.procs"),
      remove: () => {
        try {
          rmdirSync(folder);
        } catch {
          // Still busy for a moment after its last process exited: the next run reuses it.
        }
      },
    };
  } catch {
    return undefined;
  }
}
