// The SDK wraps each promise it makes (four per resource input, for its Output) in
// `debuggablePromise`: it defines three debug fields on the promise, one of them a captured stack
// (which the policy pack's source-map support then maps through the SDK's source maps),
// registers it as a leak candidate until it settles, and returns the promise chained through
// `then`/`catch`. The debug fields are read only to describe leaked promises when
// PULUMI_DEBUG_PROMISE_LEAKS is set; defining them on every promise is a twentieth of an
// evaluation of 1,800 resources. Here promises are registered and chained exactly as the SDK does
// (the same microtask steps, so resources register in the same order), without the debug fields.
// The offline tools track a program's run this way (offline/program.ts); the policy pack's
// process, from its start (packPreload.js). With DEBUG or PULUMI_DEBUG_PROMISE_LEAKS set, the
// SDK's own function stays.
"use strict";
const debuggable = require("@pulumi/pulumi/runtime/debuggable");
const state = require("@pulumi/pulumi/runtime/state");

const sdkDebuggablePromise = debuggable.debuggablePromise;

/**
 * Until `restore()`, the SDK's promises are tracked without their debug fields. With `leakReport`,
 * the first one goes through the SDK's function, which installs the SDK's report of promises
 * still pending at exit (a pack's process is killed, never exits, and needs none).
 */
function trackPromisesLightly({ leakReport = true } = {}) {
    if (process.env.DEBUG || process.env.PULUMI_DEBUG_PROMISE_LEAKS) return { restore: () => undefined };
    let first = leakReport;
    debuggable.debuggablePromise = (p, ctx) => {
        if (first) {
            first = false;
            return sdkDebuggablePromise(p, ctx);
        }
        const store = state.getStore();
        store.leakCandidates.add(p);
        return p
            .then((val) => {
                store.leakCandidates.delete(p);
                return val;
            })
            .catch((err) => {
                store.leakCandidates.delete(p);
                err.promise = p;
                throw err;
            });
    };
    return {
        restore: () => {
            debuggable.debuggablePromise = sdkDebuggablePromise;
        },
    };
}

module.exports = { trackPromisesLightly };
