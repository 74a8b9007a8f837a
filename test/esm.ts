// Loading ESM-only packages (GitHub's workflow parser, marked) from the CommonJS test suite.
import { register } from "node:module";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

// TypeScript compiles `import()` to `require()` under CommonJS; this keeps a real dynamic import.
const dynamicImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<any>;

let hookRegistered = false;

/** Imports an ESM-only package; the JSON hook lets @actions/workflow-parser load on Node 20. */
export function importEsm(specifier: string): Promise<any> {
    if (!hookRegistered) {
        register(pathToFileURL(path.join(__dirname, "esmJsonImports.mjs")));
        hookRegistered = true;
    }
    return dynamicImport(specifier);
}
