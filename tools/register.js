// Loads the project's TypeScript for the offline tools (`npm run plan|audit|bench`).
//
// Each .ts file is transpiled once with TypeScript's transpileModule — what ts-node's
// transpile-only mode does — and the JavaScript is cached by a hash of the source, the compiler
// options and the TypeScript version. A run whose sources did not change loads no compiler, which
// is most of the tools' start-up. Type checking stays in `npm test` (`tsc --noEmit`).
"use strict";
// The tools' heap grows by at most 30% between full collections instead of V8's adaptive factor of
// up to 4: an offline plan of 1,800 resources keeps about 100 MB alive, but without the bound it
// reaches 480 MB before its first full collection; with it about 360 MB, for a few percent more CPU.
// (V8 reads this flag at every collection, so setting it before anything is loaded is enough.)
require("v8").setFlagsFromString("--heap-growing-percent=30");
require("../offline/tierUp").waitLongerBeforeOptimizing();
require("../offline/deferredSdkModules");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const CACHE_DIR = path.join(ROOT, "node_modules", ".cache", "release-platform-ts");
const TSCONFIG = path.join(ROOT, "tsconfig.json");
const TYPESCRIPT_VERSION = require("typescript/package.json").version;
const CONFIG_TEXT = fs.readFileSync(TSCONFIG, "utf8");

let compilerOptions;

function transpile(source, filename) {
    const ts = require("typescript");
    if (!compilerOptions) {
        const { config, error } = ts.parseConfigFileTextToJson(TSCONFIG, CONFIG_TEXT);
        if (error) throw new Error(`${TSCONFIG}: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
        compilerOptions = ts.convertCompilerOptionsFromJson(config.compilerOptions, ROOT).options;
        compilerOptions.sourceMap = false;
        compilerOptions.inlineSourceMap = false;
    }
    return ts.transpileModule(source, { compilerOptions, fileName: filename }).outputText;
}

function cachedJavaScript(filename) {
    const source = fs.readFileSync(filename, "utf8");
    const key = crypto
        .createHash("sha256")
        .update(TYPESCRIPT_VERSION)
        .update("\0")
        .update(CONFIG_TEXT)
        .update("\0")
        .update(filename)
        .update("\0")
        .update(source)
        .digest("hex");
    const cached = path.join(CACHE_DIR, `${key}.js`);
    try {
        return fs.readFileSync(cached, "utf8");
    } catch {
        const js = transpile(source, filename);
        fs.mkdirSync(CACHE_DIR, { recursive: true });
        // Write then rename, so a concurrent run never reads half a file.
        const partial = `${cached}.${process.pid}.tmp`;
        fs.writeFileSync(partial, js);
        fs.renameSync(partial, cached);
        return js;
    }
}

require.extensions[".ts"] = (module, filename) => {
    module._compile(cachedJavaScript(filename), filename);
};
