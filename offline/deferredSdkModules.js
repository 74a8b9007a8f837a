// Preloaded by the offline tools (tools/register.js) and the policy pack's process (packPreload.js).
//
// @pulumi/pulumi loads two large modules when it starts that only function serialization uses
// (closures such as aws.lambda.CallbackFunction, which this program does not create): the
// TypeScript compiler, to parse a function's text, and npm's @npmcli/arborist (with fdir and
// normalize-package-data), to find the packages a closure needs. Together they are about 40% of
// loading the SDK. Its index also loads the Automation API (`pulumi.automation`, with execa and
// its own gRPC services), which only the release command uses, and imports by its own path; and
// OpenTelemetry and a YAML parser load with it for calls the tools rarely or never make. Here
// each is loaded on its first use instead: the requesting module gets a stand-in that loads the
// real module the first time a property of it is read, and from then on reads it through.
// Nothing else changes.
"use strict";
const Module = require("module");
const path = require("path");

const SDK = `${path.sep}@pulumi${path.sep}pulumi${path.sep}`;

/**
 * Module requests the SDK makes at load time, deferred: by what is requested, from where. A
 * module the SDK imports as a default (`__importDefault`, a CommonJS module that is a function)
 * is listed under `defaults`.
 */
const DEFERRED = [
    {
        requests: new Set(["../../typescript-shim", "@npmcli/arborist", "fdir"]),
        defaults: new Set(["normalize-package-data"]),
        from: (file) => file.includes(`${SDK}runtime${path.sep}closure${path.sep}`),
    },
    { requests: new Set(["./automation"]), defaults: new Set(), from: (file) => file.endsWith(`${SDK}index.js`) },
    // Used only when the SDK makes a gRPC call (trace propagation) and when it reads a Pulumi.yaml.
    { requests: new Set(["@opentelemetry/api"]), defaults: new Set(), from: (file) => file.endsWith(`${SDK}runtime${path.sep}settings.js`) },
    { requests: new Set(["js-yaml"]), defaults: new Set(), from: (file) => file.endsWith(`${SDK}runtime${path.sep}manifest.js`) },
];

const load = Module._load;
Module._load = function (request, parent, isMain) {
    const file = parent?.filename;
    const deferred = file && DEFERRED.find((d) => (d.requests.has(request) || d.defaults.has(request)) && d.from(file));
    if (deferred) return loadedOnFirstUse(() => load.call(this, request, parent, isMain), deferred.defaults.has(request));
    return load.call(this, request, parent, isMain);
};

/**
 * A stand-in that loads the module on its first use. It says it is an ES module's namespace, so
 * TypeScript's `__importStar` and `__importDefault` keep it as it is instead of copying (and so
 * loading) every export; for a module imported as a default, its `default` is the module itself,
 * as `__importDefault` would make it.
 */
function loadedOnFirstUse(loadReal, isDefault) {
    let real;
    const module = () => (real ??= loadReal());
    return new Proxy(
        {},
        {
            get: (_, key) => (key === "__esModule" ? true : isDefault && key === "default" ? module() : module()[key]),
            has: (_, key) => key in module(),
            ownKeys: () => Reflect.ownKeys(module()),
            getOwnPropertyDescriptor: (_, key) => {
                const descriptor = Object.getOwnPropertyDescriptor(module(), key);
                // A proxy may only report a property as its own if the target allows it.
                return descriptor && { ...descriptor, configurable: true };
            },
        },
    );
}
