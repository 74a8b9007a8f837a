// Cross-checks test/policyArgs.ts against @pulumi/policy's own analyzer: the same resources go
// through the real `Analyze`/`AnalyzeStack` RPC handlers (server.js, called in-process with protobuf
// requests as the engine sends them, without starting a gRPC server) and through the test helper;
// the diagnostics must be identical. Without a `Configure` call the server's config is empty, so the
// helper runs with an empty config file too (policies then apply their schema defaults themselves).
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { Policies } from "@pulumi/policy";
import { awsPolicies } from "../policies/aws";
import { kubernetesPolicies } from "../policies/kubernetes";
import { releasePolicies } from "../policies/release";
import { ROOT, runProgram } from "./harness";
import { Diagnostic, PACK, TestResource, analyze, analyzeStack, fromRecorded, propertiesStruct, withUrn } from "./policyArgs";
import { UNKNOWN, edit, find, releaseGraph } from "./policyFixtures";

/* eslint-disable @typescript-eslint/no-require-imports */
const proto = require("@pulumi/pulumi/proto/analyzer_pb");
const server = require("@pulumi/policy/server");
const { convertEnforcementLevel } = require("@pulumi/policy/protoutil");
/* eslint-enable @typescript-eslint/no-require-imports */

const ALL: Policies = [...kubernetesPolicies, ...awsPolicies, ...releasePolicies];

function optionsProto(r: TestResource, withParent: boolean): any {
    const o = new proto.AnalyzerResourceOptions();
    o.setProtect(!!r.protect);
    o.setIgnorechangesList(r.ignoreChanges ?? []);
    o.setAliasesList(r.aliases ?? []);
    o.setAdditionalsecretoutputsList(r.additionalSecretOutputs ?? []);
    if (r.deleteBeforeReplace !== undefined) {
        o.setDeletebeforereplace(r.deleteBeforeReplace);
        o.setDeletebeforereplacedefined(true);
    }
    if (withParent && r.parent) o.setParent(r.parent);
    return o;
}

function providerProto(r: TestResource, all: TestResource[]): any {
    if (!r.provider) return undefined;
    const urn = r.provider.split("::").slice(0, -1).join("::");
    const p = all.find((x) => withUrn(x).urn === urn);
    if (!p) return undefined;
    const pr = new proto.AnalyzerProviderResource();
    pr.setType(p.type);
    pr.setProperties(propertiesStruct(p.props));
    pr.setUrn(urn);
    pr.setName(p.name);
    return pr;
}

function analyzeRequest(r: TestResource, all: TestResource[]): any {
    const req = new proto.AnalyzeRequest();
    req.setType(r.type);
    req.setProperties(propertiesStruct(r.props));
    req.setUrn(withUrn(r).urn);
    req.setName(r.name);
    req.setOptions(optionsProto(r, true));
    const provider = providerProto(r, all);
    if (provider) req.setProvider(provider);
    return req;
}

function stackRequest(resources: TestResource[]): any {
    const req = new proto.AnalyzeStackRequest();
    req.setResourcesList(
        resources.map((r) => {
            const ar = new proto.AnalyzerResource();
            ar.setType(r.type);
            ar.setProperties(propertiesStruct(r.props));
            ar.setUrn(withUrn(r).urn);
            ar.setName(r.name);
            ar.setOptions(optionsProto(r, false));
            const provider = providerProto(r, resources);
            if (provider) ar.setProvider(provider);
            ar.setParent(r.parent ?? "");
            ar.setDependenciesList(r.dependencies ?? []);
            for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
                const deps = new proto.AnalyzerPropertyDependencies();
                deps.setUrnsList(urns);
                ar.getPropertydependenciesMap().set(k, deps);
            }
            return ar;
        }),
    );
    return req;
}

function call(handler: (call: any, callback: (err: any, resp: any) => void) => void, request: any): Promise<Diagnostic[]> {
    return new Promise((resolve, reject) =>
        handler({ request }, (err, resp) => {
            if (err) return reject(err);
            resolve(
                resp.getDiagnosticsList().map((d: any) => ({
                    policyName: d.getPolicyname(),
                    message: d.getMessage(),
                    enforcementLevel: convertEnforcementLevel(d.getEnforcementlevel()),
                    urn: d.getUrn() || undefined,
                })),
            );
        }),
    );
}

/** Diagnostics in a comparable form; `Analyze` attributes a violation to its resource when no URN is given. */
function normalized(ds: Diagnostic[], defaultUrn?: string): string[] {
    return ds.map((d) => JSON.stringify([d.policyName, d.enforcementLevel, d.urn ?? defaultUrn, d.message])).sort();
}

async function compare(resources: TestResource[]) {
    const analyzeRpc = server.makeAnalyzeRpcFun(PACK.name, PACK.version, PACK.enforcementLevel, ALL);
    const stackRpc = server.makeAnalyzeStackRpcFun(PACK.name, PACK.version, PACK.enforcementLevel, ALL);
    let compared = 0;
    for (const r of resources) {
        const real = await call(analyzeRpc, analyzeRequest(r, resources));
        const ours = (await analyze(ALL, r, {}, resources)).diagnostics;
        assert.deepEqual(normalized(ours, withUrn(r).urn), normalized(real, withUrn(r).urn), `Analyze ${r.type} ${r.name}`);
        compared += real.length;
    }
    const real = await call(stackRpc, stackRequest(resources));
    assert.deepEqual(normalized((await analyzeStack(ALL, resources)).diagnostics), normalized(real), "AnalyzeStack");
    return compared + real.length;
}

describe("test/policyArgs.ts matches @pulumi/policy's analyzer server", function () {
    this.timeout(120000);

    it("on the compliant fixture release and a broken one (violations, unknowns, secrets, providers)", async () => {
        assert.equal(await compare(releaseGraph()), 0);
        let broken = edit(releaseGraph(), "auth-service-blue", (r) => {
            const c = r.props!.spec.template.spec.containers[0];
            c.image = "nginx:latest";
            c.env.push({ name: "JWT_SECRET", value: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "s3cr3t" } });
            c.env.push({ name: "SERVICE_URL", value: UNKNOWN });
            r.props!.spec.replicas = 2;
            return r;
        });
        broken = edit(broken, "migrate-1-2-3", (r) => ({ ...r, dependencies: [] }));
        broken = edit(broken, "prod-db", (r) => ({ ...r, protect: false, provider: "urn:pulumi:prod::release-platform::pulumi:providers:aws::aws::id" }));
        broken.push(withUrn({ type: "pulumi:providers:aws", name: "aws", props: { region: "us-east-1", defaultTags: { tags: { owner: "x" } } } }));
        assert.ok((await compare(broken)) >= 6);
    });

    it("the analyzer protocol carries no retainOnDelete, so release-migration-after-snapshot can't check it", async () => {
        // If a future SDK adds the field, this fails: then check retainOnDelete in the policy again.
        assert.equal(typeof proto.AnalyzerResourceOptions.prototype.getRetainondelete, "undefined", "AnalyzerResourceOptions has a retainOnDelete field now");
        const seen: object[] = [];
        const probes: Policies = [
            { name: "probe-resource", description: "records opts", validateResource: (args) => void seen.push(args.opts) },
            { name: "probe-stack", description: "records opts", validateStack: (args) => void seen.push(...args.resources.map((r) => r.opts)) },
        ];
        const snapshot = find(releaseGraph(), "prod-db-snapshot-1-2-3");
        await call(server.makeAnalyzeRpcFun(PACK.name, PACK.version, PACK.enforcementLevel, probes), analyzeRequest(snapshot, [snapshot]));
        await call(server.makeAnalyzeStackRpcFun(PACK.name, PACK.version, PACK.enforcementLevel, probes), stackRequest([snapshot]));
        assert.equal(seen.length, 2);
        for (const opts of seen) assert.equal("retainOnDelete" in opts, false, `options: ${Object.keys(opts).join(", ")}`);
    });

    it("on the program's recorded prod stack (fails, never skips, when the program is missing)", async () => {
        const resources = (await runProgram({ stack: "prod" })).resources.map(fromRecorded);
        await compare(resources);
    });
});

describe("preview: rules that can only decide at `up`", () => {
    const ALL_RULES = ALL;

    it("graph-based rules decide in preview although IDs (vpcId, subnetIds, replicateSourceDb, keyArn) are unknown", async () => {
        const resources = releaseGraph();
        const diagnostics = [...(await analyzeStack(ALL_RULES, resources)).diagnostics];
        for (const r of resources) diagnostics.push(...(await analyze(ALL_RULES, r, {}, resources)).diagnostics);
        assert.deepEqual(diagnostics, []);
    });

    it("a rule whose deciding input is a provider output reports an advisory 'can't run … during preview' and decides at up", async () => {
        // These are the only rules that read a value the program computes from provider outputs:
        // - k8s-no-literal-secrets-in-env: a literal *_URL env value built from outputs (may embed credentials);
        // - sg-no-public-database-ports: an open-CIDR rule whose ports come from an output (e.g. the RDS port);
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
        const diagnostics: Diagnostic[] = [];
        for (const r of graph) diagnostics.push(...(await analyze(ALL_RULES, r, {}, graph)).diagnostics);
        diagnostics.push(...(await analyzeStack(ALL_RULES, graph)).diagnostics);
        assert.deepEqual(
            diagnostics.map((d) => `${d.enforcementLevel} ${d.policyName} ${/during preview/.test(d.message)}`).sort(),
            ["advisory k8s-no-literal-secrets-in-env true", "advisory sg-no-public-database-ports true"],
        );
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
                if (name !== "all") assert.ok(ALL.some((p) => p.name === name), `unknown policy ${name}`);
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
