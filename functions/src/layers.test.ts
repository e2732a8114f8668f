import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

/**
 * The layers of the backend, lowest first. A module may import its own folder and any lower layer; never a
 * higher one, nor another folder of its own layer. So the wire contract depends on nothing of ours, services
 * depend on ports and never on HTTP, and only the entry points know the composition root.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["contract"],
  ["errors"],
  ["logging"],
  ["telemetry"],
  ["database", "blobs", "queue", "media"],
  ["providers"],
  ["store"],
  ["models"],
  ["config"],
  ["auth", "grounding", "ops"],
  ["jobs"],
  ["tools"],
  ["chat", "uploads"],
  ["account"],
  ["cleanup"],
  ["http", "callable"],
  ["runtime"],
  ["entries"],
  ["triggers"],
  ["index.ts"],
];

const repositoryRoot = resolve(import.meta.dirname, "../..");
const functionsSource = join(repositoryRoot, "functions", "src");

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory())
      return entry.name === "node_modules" || entry.name === "__fixtures__" ? [] : sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import of a file (static, `export ... from`, and dynamic `import()`), as absolute paths. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles
    .map((reference) => reference.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => resolve(dirname(file), name));
}

const isTest = (file: string) => file.endsWith(".test.ts") || file.includes(`${sep}test-support${sep}`);
const inside = (folder: string, file: string) => !relative(folder, file).startsWith("..");
/** The top folder of a module under functions/src (or `index.ts`). */
const topOf = (file: string) => relative(functionsSource, file).split(sep)[0] ?? "";
const rankOf = (top: string) => LAYERS.findIndex((layer) => layer.includes(top));
const shown = (file: string) => relative(repositoryRoot, file);

describe("layers", () => {
  const functionFiles = sourceFiles(functionsSource);

  it("places every folder of functions/src in a layer", () => {
    const unplaced = [...new Set(functionFiles.filter((file) => !isTest(file)).map(topOf))].filter(
      (top) => rankOf(top) === -1,
    );
    assert.deepEqual(unplaced, []);
  });

  it("imports only downwards: same folder or a lower layer", () => {
    const wrongWay: string[] = [];
    for (const file of functionFiles.filter((candidate) => !isTest(candidate))) {
      const from = topOf(file);
      for (const target of importsOf(file)) {
        const to = topOf(target);
        if (!inside(functionsSource, target))
          wrongWay.push(`${shown(file)} -> ${shown(target)} (outside functions/src)`);
        else if (target.includes(`${sep}test-support${sep}`)) wrongWay.push(`${shown(file)} -> ${shown(target)}`);
        else if (from !== to && rankOf(to) >= rankOf(from)) wrongWay.push(`${shown(file)} -> ${shown(target)}`);
      }
    }
    assert.deepEqual(wrongWay, []);
  });

  it("lets only the composition root, the entry points and the configuration itself read the settings object", () => {
    const settings = join(functionsSource, "config", "settings.ts");
    const allowed = new Set(["config", "runtime", "entries", "triggers", "index.ts"]);
    const readers = functionFiles
      .filter((file) => !isTest(file) && !allowed.has(topOf(file)))
      .filter((file) => importsOf(file).some((target) => target === settings))
      .map(shown);
    assert.deepEqual(readers, [], "services take narrow options, built in runtime/services.ts");
  });

  it("never lets production code import a test", () => {
    const imported = functionFiles
      .filter((file) => !isTest(file))
      .flatMap((file) =>
        importsOf(file)
          .filter((target) => target.endsWith(".test.ts") || target.endsWith(".contract.ts"))
          .map((target) => `${shown(file)} -> ${shown(target)}`),
      );
    assert.deepEqual(imported, []);
  });

  it("keeps tests and their harnesses inside functions/src", () => {
    const outside = functionFiles.filter(isTest).flatMap((file) =>
      importsOf(file)
        .filter((target) => !inside(functionsSource, target))
        .map((target) => `${shown(file)} -> ${shown(target)}`),
    );
    assert.deepEqual(outside, []);
  });

  it("has no import cycle between modules", () => {
    const graph = new Map(
      functionFiles.filter((file) => !isTest(file)).map((file) => [file, importsOf(file)] as const),
    );
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map(shown).join(" -> "));
        return;
      }
      state.set(file, "visiting");
      for (const target of graph.get(file) ?? []) visit(target, [...trail, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });

  it("lets the web client import only itself and the wire contract", () => {
    const web = join(repositoryRoot, "web", "src");
    const contract = join(functionsSource, "contract");
    const stray = sourceFiles(web).flatMap((file) =>
      importsOf(file)
        .filter((target) => !inside(web, target) && !inside(contract, target))
        .map((target) => `${shown(file)} -> ${shown(target)}`),
    );
    assert.deepEqual(stray, []);
  });
});
