// When V8 optimizes a function. By default it considers one for its optimizing compiler once the
// function has run about 66 KB of bytecode; the SDK's large functions (resource registration,
// property serialization) and the policy pack's handlers get there within the first hundred
// resources, and are then compiled again and again as new object shapes deoptimize them: a third
// of a plan's CPU went to V8's background threads. The offline tools and the pack's process run
// for seconds, so they wait six times as long first, and what is then optimized stays so.
// Measured on Node 20 (V8 11): plan of 1,800 resources 4.36 → 4.06 s, prod plan 1.26 → 1.08 s,
// audit of 1,800 resources 2.57 → 2.35 s (medians of five pairs). On another V8 the flag may not
// exist (V8 would print an error for it), so nothing is set there.
"use strict";
const v8 = require("v8");

/** Bytecode, in bytes, a function runs before V8 considers optimizing it. */
const INTERRUPT_BUDGET = 400 * 1024;
/** The V8 major version the budget was measured on (Node 20). */
const MEASURED_V8_MAJOR = 11;

/** Sets the budget for the functions compiled from now on; returns whether it did (only on the V8 it was measured on). */
function waitLongerBeforeOptimizing(v8Version = process.versions.v8) {
    if (Number(v8Version.split(".")[0]) !== MEASURED_V8_MAJOR) return false;
    v8.setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
    return true;
}

module.exports = { waitLongerBeforeOptimizing, INTERRUPT_BUDGET, MEASURED_V8_MAJOR };
