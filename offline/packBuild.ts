// Compiles a TypeScript policy pack to JavaScript in a cache directory keyed by a hash of its
// sources, so the analyzer starts in under a second instead of the ~5 s that run-policy-pack's
// forced ts-node type-checking costs. Type errors in the pack are caught by `npm run typecheck`,
// which covers `policies/`; here we only transpile (the same as `npm test` and the npm scripts).
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type * as TypeScript from "typescript";

const ROOT = path.resolve(__dirname, "..");
/** Inside node_modules so that the compiled pack resolves `@pulumi/policy` & co. from the project. */
export const CACHE_ROOT = path.join(ROOT, "node_modules", ".cache", "offline-policy-pack");
/** Bump when the way packs are compiled changes, to invalidate old cache entries. */
const BUILD_FORMAT = "1";

export interface BuiltPack {
    /** The directory to start the pack from: holds `package.json` whose `main` is the compiled entry. */
    dir: string;
    hash: string;
    fromCache: boolean;
}

export class PackSourceError extends Error {}

/** Returns a runnable JavaScript copy of the pack in `packDir`, compiling it only when its sources changed. */
export function buildPack(packDir: string): BuiltPack {
    const absPackDir = path.resolve(packDir);
    const manifestFile = findPackageJson(absPackDir);
    const entry = packEntry(absPackDir, manifestFile);
    const sources = collectSources(entry);
    const hash = hashSources(sources, manifestFile);
    const baseDir = commonRoot([absPackDir, ...sources]);
    const outRoot = path.join(CACHE_ROOT, hash);
    const dir = path.join(outRoot, path.relative(baseDir, absPackDir));
    if (fs.existsSync(path.join(dir, "package.json"))) return { dir, hash, fromCache: true };

    const staging = `${outRoot}.tmp-${process.pid}-${Date.now()}`;
    try {
        for (const file of sources) writeCompiled(file, path.join(staging, path.relative(baseDir, file)));
        const compiledEntry = path.relative(absPackDir, toJsPath(entry));
        writePackageJson(manifestFile, compiledEntry, path.join(staging, path.relative(baseDir, absPackDir), "package.json"));
        fs.mkdirSync(path.dirname(outRoot), { recursive: true });
        fs.renameSync(staging, outRoot);
    } catch (e) {
        fs.rmSync(staging, { recursive: true, force: true });
        // Another process may have built the same hash concurrently.
        if (!fs.existsSync(path.join(dir, "package.json"))) throw e;
    }
    return { dir, hash, fromCache: false };
}

/** The pack's package.json (PolicyPack reads its version from it), or the nearest one above. */
function findPackageJson(packDir: string): string {
    for (let dir = packDir; ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, "package.json");
        if (fs.existsSync(candidate)) return candidate;
        if (path.dirname(dir) === dir) throw new PackSourceError(`no package.json in or above the policy pack directory ${packDir}`);
    }
}

function packEntry(packDir: string, manifestFile: string): string {
    if (!fs.existsSync(packDir) || !fs.statSync(packDir).isDirectory()) {
        throw new PackSourceError(`policy pack directory ${packDir} does not exist`);
    }
    const main = path.dirname(manifestFile) === packDir ? readJson(manifestFile).main : undefined;
    const candidates = main ? [path.resolve(packDir, main)] : [];
    candidates.push(path.join(packDir, "index.ts"), path.join(packDir, "index.js"));
    for (const c of candidates) {
        const resolved = resolveModuleFile(c);
        if (resolved) return resolved;
    }
    throw new PackSourceError(`policy pack ${packDir} has no entry point (index.ts)`);
}

/** The pack's entry plus every file it reaches through relative imports (and JSON it imports). */
function collectSources(entry: string): string[] {
    const seen = new Set<string>();
    const queue = [entry];
    while (queue.length) {
        const file = queue.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        if (file.endsWith(".json")) continue;
        for (const specifier of relativeImports(fs.readFileSync(file, "utf8"))) {
            // A match inside a comment may not resolve; a real missing import fails when the pack loads.
            const resolved = resolveModuleFile(path.resolve(path.dirname(file), specifier));
            if (resolved) queue.push(resolved);
        }
    }
    return [...seen].sort();
}

/** Relative module specifiers of import/export/require statements; a regex keeps TypeScript unloaded on cache hits. */
function relativeImports(text: string): string[] {
    const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](\.{1,2}\/[^"']*|\.{1,2})["']/g;
    return [...text.matchAll(pattern)].map((m) => m[1]);
}

function resolveModuleFile(base: string): string | undefined {
    const stripped = base.replace(/\.js$/, "");
    const candidates = [base, `${stripped}.ts`, `${base}.ts`, `${base}.js`, `${base}.json`, path.join(base, "index.ts"), path.join(base, "index.js")];
    return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile() && !c.endsWith(".d.ts"));
}

function hashSources(files: string[], manifestFile: string): string {
    const hash = crypto.createHash("sha256").update(`format ${BUILD_FORMAT}\ntypescript ${typescriptVersion()}\n`);
    for (const file of [...files, manifestFile]) {
        hash.update(`${path.relative(ROOT, file)}\0`)
            .update(fs.readFileSync(file))
            .update("\0");
    }
    return hash.digest("hex").slice(0, 16);
}

function commonRoot(files: string[]): string {
    let root = path.dirname(files[0]);
    for (const f of files) {
        while (!(f === root || f.startsWith(root + path.sep))) root = path.dirname(root);
    }
    return root;
}

function typescriptVersion(): string {
    return JSON.parse(fs.readFileSync(require.resolve("typescript/package.json"), "utf8")).version;
}

function loadTypeScript(): typeof TypeScript {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("typescript");
}

function compilerOptions(ts: typeof TypeScript): TypeScript.CompilerOptions {
    return {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        resolveJsonModule: true,
        inlineSourceMap: true,
        inlineSources: true,
    };
}

function writeCompiled(source: string, target: string): void {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!source.endsWith(".ts")) {
        fs.copyFileSync(source, target);
        return;
    }
    const ts = loadTypeScript();
    const output = ts.transpileModule(fs.readFileSync(source, "utf8"), {
        compilerOptions: compilerOptions(ts),
        fileName: source,
        reportDiagnostics: true,
    });
    const syntaxErrors = (output.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (syntaxErrors.length) {
        const message = ts.flattenDiagnosticMessageText(syntaxErrors[0].messageText, "\n");
        throw new PackSourceError(`${path.relative(ROOT, source)}: ${message}`);
    }
    fs.writeFileSync(toJsPath(target), output.outputText);
}

function toJsPath(file: string): string {
    return file.replace(/\.ts$/, ".js");
}

function writePackageJson(manifestFile: string, compiledEntry: string, target: string): void {
    const manifest = readJson(manifestFile);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, JSON.stringify({ ...manifest, main: compiledEntry }, null, 2));
}

function readJson(file: string): any {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new PackSourceError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
}
