// The SDK wraps each promise it makes (four per resource input, for its Output) in
// `debuggablePromise`: it defines three debug fields on the promise, one of them a captured stack,
// registers it as a leak candidate until it settles, and returns the promise chained through
// `then`/`catch`. The debug fields are read only to describe leaked promises when
// PULUMI_DEBUG_PROMISE_LEAKS is set; defining them on every promise is a twentieth of an
// evaluation of 1,800 resources. While a program runs, promises are registered and chained
// exactly as the SDK does (the same microtask steps, so resources register in the same order,
// and the same leak report at exit), without the debug fields. With DEBUG or
// PULUMI_DEBUG_PROMISE_LEAKS set, the SDK's own function stays.

/* eslint-disable @typescript-eslint/no-require-imports */
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T> };
const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { leakCandidates: Set<Promise<unknown>> } };
/* eslint-enable @typescript-eslint/no-require-imports */

const sdkDebuggablePromise = debuggable.debuggablePromise;

/** Until `restore()`, the SDK's promises are tracked without their debug fields. */
export function trackPromisesLightly(): { restore(): void } {
    if (process.env.DEBUG || process.env.PULUMI_DEBUG_PROMISE_LEAKS) return { restore: () => undefined };
    let first = true;
    debuggable.debuggablePromise = <T>(p: Promise<T>, ctx: unknown): Promise<T> => {
        // The SDK's function installs its leak report at exit with the first promise it sees.
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
