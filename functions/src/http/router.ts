import type { Requirement } from "../auth/caller.ts";
import type { RequestContext } from "./request-context.ts";

/**
 * Who may call a route: anyone (`public`: health, signed media URLs) or the callers its requirement admits (see
 * `Requirement`: an API key scope, `any` authenticated caller, `users` only). `rateLimited` routes (those that
 * start model work or streams, uploads, stops) take from the caller's rate limit before they run; `"in-route"`
 * ones take it themselves, inside the transaction that starts their work, which saves that transaction's round
 * trips to the store.
 */
export interface Route {
  readonly method: "GET" | "POST" | "DELETE";
  /** Segments; `:name` captures one segment, a final `*` captures the rest. */
  readonly path: string;
  readonly access: "public" | Requirement;
  readonly rateLimited?: true | "in-route";
  readonly handle: (context: RequestContext) => Promise<void>;
}

interface RouteMatch {
  readonly route: Route;
  readonly params: Readonly<Record<string, string>>;
}

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly string[];
}

export class Router {
  readonly #routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.#routes = routes.map((route) => ({ route, segments: route.path.split("/").filter(Boolean) }));
  }

  match(method: string, path: string): RouteMatch | undefined {
    const segments = path.split("/").filter(Boolean);
    for (const { route, segments: pattern } of this.#routes) {
      if (route.method !== method) continue;
      const params = matchSegments(pattern, segments);
      if (params !== undefined) return { route, params };
    }
    return undefined;
  }
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const expected = pattern[index] ?? "";
    if (expected === "*") {
      if (index >= segments.length) return undefined;
      params["*"] = segments.slice(index).map(decodeSegment).join("/");
      return params;
    }
    const actual = segments[index];
    if (actual === undefined) return undefined;
    if (expected.startsWith(":")) params[expected.slice(1)] = decodeSegment(actual);
    else if (expected !== actual) return undefined;
  }
  return segments.length === pattern.length ? params : undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
