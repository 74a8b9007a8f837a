// Meta-test: every policy of the pack has a fire-and-quiet case, and every stack policy a case on
// the program's recorded prod graph with one edge or property changed. The spec files record the
// policy names as their cases register (test/policyArgs.ts `coverage`); importing them here makes
// the registry complete even when this file runs alone (mocha's require cache loads each once).
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { StackValidationPolicy } from "@pulumi/policy";
import { awsPolicies } from "../policies/aws";
import { kubernetesPolicies } from "../policies/kubernetes";
import { releasePolicies } from "../policies/release";
import { RELEASE_MANIFEST_NAME } from "../conventions";
import { EXPORT_CHECKS } from "../tools/exportChecks";
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

describe("README's policy section", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## The policy pack"), readme.indexOf("\n## ", readme.indexOf("## The policy pack") + 1));
    const POLICY_NAME = /`((?:k8s|rds|eks|ec2|sg|kms|vpc|aws|release)-[a-z0-9-]+)`/g;

    it("states the pack's rule count", () => {
        const stated = /into (\d+) CrossGuard rules/.exec(section);
        assert.ok(stated, "the section says how many rules the pack has");
        assert.equal(Number(stated[1]), PACK_POLICIES.length);
    });

    it("lists every rule of the pack and the audit's export checks, and names no other", () => {
        // The release-manifest ConfigMap is a name from conventions.ts, not a rule.
        const listed = sorted([...section.matchAll(POLICY_NAME)].map((m) => m[1]).filter((n) => n !== RELEASE_MANIFEST_NAME));
        assert.deepEqual(listed, sorted([...PACK_POLICIES.map((p) => p.name), ...EXPORT_CHECKS.map((c) => c.name)]));
    });
});
