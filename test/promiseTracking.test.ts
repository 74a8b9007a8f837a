import * as assert from "node:assert/strict";
import { trackPromisesLightly } from "../offline/promiseTracking";

/* eslint-disable @typescript-eslint/no-require-imports */
const debuggable = require("@pulumi/pulumi/runtime/debuggable");
const state = require("@pulumi/pulumi/runtime/state");
/* eslint-enable @typescript-eslint/no-require-imports */

/** How many microtask turns `promise` takes to settle once started (the order resources register in depends on it). */
async function turnsToSettle(promise: Promise<unknown>): Promise<number> {
    let settled = false;
    promise.then(
        () => (settled = true),
        () => (settled = true),
    );
    let turns = 0;
    while (!settled && turns < 100) {
        await null;
        turns++;
    }
    return turns;
}

function withEnv(name: string, value: string | undefined, run: () => void): void {
    const before = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
    try {
        run();
    } finally {
        if (before === undefined) delete process.env[name];
        else process.env[name] = before;
    }
}

describe("the SDK's promise tracking while a program runs (offline/promiseTracking.js)", () => {
    const sdkDebuggablePromise = debuggable.debuggablePromise;
    let tracking: { restore(): void } | undefined;
    beforeEach(() => {
        withEnv("DEBUG", undefined, () => withEnv("PULUMI_DEBUG_PROMISE_LEAKS", undefined, () => (tracking = trackPromisesLightly())));
        // The first promise of a run goes through the SDK's own function (it installs the leak report).
        debuggable.debuggablePromise(Promise.resolve(0), "first");
    });
    afterEach(() => tracking?.restore());

    it("registers a promise as a leak candidate until it settles, without the SDK's debug fields", async () => {
        let resolve!: (v: string) => void;
        const pending = new Promise<string>((r) => (resolve = r));
        const tracked = debuggable.debuggablePromise(pending, "ctx");
        assert.ok(state.getStore().leakCandidates.has(pending));
        assert.equal(Object.getOwnPropertyDescriptor(pending, "_debugStackTrace"), undefined);
        resolve("value");
        assert.equal(await tracked, "value");
        assert.ok(!state.getStore().leakCandidates.has(pending));
    });

    it("passes a rejection on with the promise attached, as the SDK does", async () => {
        const failing = Promise.reject(new Error("boom"));
        const tracked = debuggable.debuggablePromise(failing, "ctx");
        await assert.rejects(tracked, (err: any) => err.message === "boom" && err.promise === failing);
        assert.ok(!state.getStore().leakCandidates.has(failing));
    });

    it("settles in as many microtask turns as the SDK's function, resolved or rejected", async () => {
        for (const make of [() => Promise.resolve(1), () => Promise.reject(new Error("x"))]) {
            const light = await turnsToSettle(debuggable.debuggablePromise(make(), "ctx"));
            const sdk = await turnsToSettle(sdkDebuggablePromise(make(), "ctx"));
            assert.equal(light, sdk);
        }
    });

    it("leaves the SDK's function in place once restored, and under DEBUG", () => {
        tracking!.restore();
        assert.equal(debuggable.debuggablePromise, sdkDebuggablePromise);
        withEnv("DEBUG", "1", () => {
            const debugTracking = trackPromisesLightly();
            assert.equal(debuggable.debuggablePromise, sdkDebuggablePromise);
            debugTracking.restore();
        });
        const p = Promise.resolve(2);
        debuggable.debuggablePromise(p, "ctx").catch(() => undefined);
        assert.notEqual(Object.getOwnPropertyDescriptor(p, "_debugStackTrace"), undefined);
    });
});
