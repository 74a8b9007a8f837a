// Preloaded (node -r) into the policy pack's process. The pack is compiled to JavaScript before it
// starts (offline/packBuild.ts), so run-policy-pack's ts-node registration has nothing left to
// compile, yet it would load the TypeScript compiler, about a third of the pack's start. Here
// `ts-node` and `typescript` are stand-ins: register() does nothing, and typescript gives only its
// version, which run-policy-pack reads to choose module options. The SDK's closure-serialization
// modules load on first use (deferredSdkModules.js), its promises carry no captured stacks
// (promiseTracking.js), and V8 waits longer before optimizing (tierUp.js). Nothing else is changed.
"use strict";
require("./tierUp").waitLongerBeforeOptimizing();
require("./deferredSdkModules");
const Module = require("module");

const STAND_INS = {
    "ts-node": { register() {}, VERSION: "none: the policy pack is precompiled" },
    typescript: { version: require("typescript/package.json").version },
};

const load = Module._load;
Module._load = function (request, ...rest) {
    return Object.prototype.hasOwnProperty.call(STAND_INS, request) ? STAND_INS[request] : load.call(this, request, ...rest);
};

require("./promiseTracking").trackPromisesLightly({ leakReport: false });
