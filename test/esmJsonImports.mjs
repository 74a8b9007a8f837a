// Module loader hook: lets Node 20 import the JSON schemas that @actions/workflow-parser imports
// without an import attribute (it is written for bundlers), by adding `type: "json"` for them.
export async function load(url, context, nextLoad) {
    if (url.endsWith(".json") && url.includes("/node_modules/@actions/workflow-parser/")) {
        return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: "json" } });
    }
    return nextLoad(url, context);
}
