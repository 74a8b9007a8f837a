// Meta-test: every policy of the pack has a fire-and-quiet case, and every stack policy a case on
// the program's recorded prod graph with one edge or property changed. The spec files record the
// policy names as their cases register (test/policyArgs.ts `coverage`); importing them here makes
// the registry complete even when this file runs alone (mocha's require cache loads each once).
import * as assert from "node:assert/strict";
import { StackValidationPolicy } from "@pulumi/policy";
import { awsPolicies } from "../policies/aws";
import { kubernetesPolicies } from "../policies/kubernetes";
import { releasePolicies } from "../policies/release";
import { coverage } from "./policyArgs";
import "./policies.aws.test";
import "./policies.kubernetes.test";
import "./policies.program.test";
import "./policies.release.test";

const PACK_POLICIES = [...kubernetesPolicies, ...awsPolicies, ...releasePolicies];

function sorted(names: Iterable<string>): string[] {
    return [...new Set(names)].sort();
}

describe("policy test coverage", () => {
    it("every policy in the pack, and nothing else, has a fire-and-quiet case", () => {
        assert.deepEqual(sorted(coverage.fireAndQuiet), sorted(PACK_POLICIES.map((p) => p.name)));
    });

    it("every stack policy, and nothing else, has a case on the mutated program graph", () => {
        const stackPolicies = PACK_POLICIES.filter((p) => typeof (p as StackValidationPolicy).validateStack === "function");
        assert.ok(stackPolicies.length > 0);
        assert.deepEqual(sorted(coverage.mutatedProgramGraph), sorted(stackPolicies.map((p) => p.name)));
    });
});
