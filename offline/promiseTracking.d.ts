/** Until `restore()`, the SDK's promises are tracked without their debug fields (offline/promiseTracking.js). */
export function trackPromisesLightly(options?: { leakReport?: boolean }): { restore(): void };
