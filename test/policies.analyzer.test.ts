// The analyzer path the policy tests share with `plan` and `audit`: what policies receive through
// @pulumi/policy's own handlers, what can only be decided at `up`, and the pack's metadata and config files.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { Policies } from "@pulumi/policy";
import { awsPolicies } from "../policies/aws";
import { kubernetesPolicies } from "../policies/kubernetes";
import { releasePolicies } from "../policies/release";
import { ROOT, SECRET_SIG, SIG_KEY } from "./harness";
import { Diagnostic, analyze, analyzeProgram, resourceArgs, stackArgs } from "./policyArgs";
import { UNKNOWN, edit, find, releaseGraph } from "./policyFixtures";

/* eslint-disable @typescript-eslint/no-require-imports */
const proto = require("@pulumi/pulumi/proto/analyzer_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

const ALL: Policies = [...kubernetesPolicies, ...awsPolicies, ...releasePolicies];

describe("policies receive what @pulumi/policy's analyzer hands them", () => {
    it("the analyzer protocol carries no retainOnDelete, so release-migration-after-snapshot can't check it", async () => {
        // If a future SDK adds the field, this fails: then check retainOnDelete in the policy again.
        assert.equal(typeof proto.AnalyzerResourceOptions.prototype.getRetainondelete, "undefined", "AnalyzerResourceOptions has a retainOnDelete field now");
        const snapshot = find(releaseGraph(), "prod-db-snapshot-1-2-3");
        const fromStack = (await stackArgs([snapshot])).resources[0];
        for (const opts of [fromStack.opts, (await resourceArgs(snapshot)).opts]) {
            assert.equal("retainOnDelete" in opts, false, `options: ${Object.keys(opts).join(", ")}`);
            assert.equal(opts.protect, false);
        }
    });

    it("secrets arrive unwrapped, unknowns throw when touched, providers and graph edges resolve", async () => {
        const graph = releaseGraph();
        const provider = { type: "pulumi:providers:aws", name: "aws", props: { region: "us-east-1" } };
        const db = { ...find(graph, "prod-db"), provider: "urn:pulumi:prod::release-platform::pulumi:providers:aws::aws::id" };
        const secret = { [SIG_KEY]: SECRET_SIG, value: "s3cr3t" };
        const args = await resourceArgs({ ...db, props: { ...db.props, password: secret, endpoint: UNKNOWN } }, { minimum: 2 }, [provider, db]);
        assert.equal(args.props.password, "s3cr3t");
        assert.throws(() => args.props.endpoint, /can't be known during preview/);
        assert.deepEqual({ type: args.provider?.type, region: args.provider?.props.region }, { type: "pulumi:providers:aws", region: "us-east-1" });
        assert.deepEqual(args.getConfig(), { minimum: 2 });
        const stack = await stackArgs(graph);
        const migration = stack.resources.find((r) => r.name === "migrate-1-2-3")!;
        assert.deepEqual(
            migration.dependencies.map((r) => r.name),
            ["prod-db-snapshot-1-2-3"],
        );
    });

    it("a policy that throws fails the check instead of passing it", async () => {
        const throwing: Policies = [
            {
                name: "throws",
                description: "always throws",
                validateResource: () => {
                    throw new Error("boom");
                },
            },
        ];
        await assert.rejects(analyze(throwing, find(releaseGraph(), "prod-db")), /analyze failed: [\s\S]*boom/);
    });
});

describe("preview: rules that can only decide at `up`", () => {
    const ALL_RULES = ALL;

    it("graph-based rules decide in preview although IDs (vpcId, subnetIds, replicateSourceDb, keyArn) are unknown", async () => {
        assert.deepEqual(await analyzeProgram(ALL_RULES, releaseGraph()), []);
    });

    it("a rule whose deciding input is a provider output reports an advisory 'can't run … during preview' and decides at up", async () => {
        // These are the only rules that read a value the program computes from provider outputs:
        // - k8s-no-literal-secrets-in-env: a literal *_URL env value built from outputs (may embed credentials);
        // - sg-no-public-database-ports and sg-no-public-admin-ports: an open-CIDR rule whose ports come
        //   from an output (e.g. the RDS port);
        // - any resource rule whose own input is an output (e.g. an Ingress certificate ARN annotation), the
        //   analyzer's default: it can't see the value until `up`.
        let graph = edit(releaseGraph(), "auth-service-blue", (r) => {
            r.props!.spec.template.spec.containers[0].env.push({ name: "CACHE_URL", value: UNKNOWN });
            return r;
        });
        graph = edit(graph, "database-sg", (r) => {
            r.props!.ingress = [{ fromPort: UNKNOWN, toPort: UNKNOWN, protocol: "tcp", cidrBlocks: ["0.0.0.0/0"] }];
            return r;
        });
        const diagnostics: Diagnostic[] = await analyzeProgram(ALL_RULES, graph);
        assert.deepEqual(diagnostics.map((d) => `${d.enforcementLevel} ${d.policyName} ${/during preview/.test(d.message)}`).sort(), [
            "advisory k8s-no-literal-secrets-in-env true",
            "advisory sg-no-public-admin-ports true",
            "advisory sg-no-public-database-ports true",
        ]);
    });
});

describe("pack metadata and config files", () => {
    it("policy names are unique kebab-case with a one-line description", () => {
        const names = ALL.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const p of ALL) {
            assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, p.name);
            assert.ok(p.description && !p.description.includes("\n"), p.name);
        }
    });

    for (const stack of ["prod", "staging"]) {
        it(`config/${stack}.json names only known policies, levels and schema properties of the right type`, () => {
            const file = JSON.parse(fs.readFileSync(path.join(ROOT, "policies", "config", `${stack}.json`), "utf8"));
            const levels = ["advisory", "mandatory", "remediate", "disabled"];
            for (const [name, entry] of Object.entries<any>(file)) {
                if (typeof entry === "string") {
                    assert.ok(levels.includes(entry), `${name}: ${entry}`);
                    continue;
                }
                if (name !== "all")
                    assert.ok(
                        ALL.some((p) => p.name === name),
                        `unknown policy ${name}`,
                    );
                const { enforcementLevel, ...props } = entry;
                if (enforcementLevel !== undefined) assert.ok(levels.includes(enforcementLevel), name);
                const schema = ALL.find((p) => p.name === name)?.configSchema?.properties ?? {};
                for (const [key, value] of Object.entries(props)) {
                    const type = (schema[key] as any)?.type;
                    assert.ok(type, `${name}.${key} is not in the policy's configSchema`);
                    const actual = Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;
                    assert.ok(actual === type || (type === "number" && actual === "integer"), `${name}.${key}: ${actual} is not ${type}`);
                }
            }
        });
    }
});
