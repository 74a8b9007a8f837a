import * as assert from "node:assert/strict";
import { Policies } from "@pulumi/policy";
import * as rel from "../policies/release";
import { PolicyConfigFile, TestResource, analyzeStack, messagesOf } from "./policyArgs";
import { UNKNOWN, edit, find, releaseGraph } from "./policyFixtures";

async function messages(policy: Policies[number], graph: TestResource[], config: PolicyConfigFile = {}) {
    return messagesOf(await analyzeStack([policy], graph, config));
}

function withProps<T extends TestResource>(r: T, change: (p: any) => void): T {
    const copy = structuredClone(r);
    change(copy.props);
    return copy;
}

function manifest(graph: TestResource[], data: Record<string, string>) {
    return edit(graph as any, "release-manifest", (r) => withProps(r, (p) => Object.assign(p.data, data)));
}

describe("release policies", () => {
    it("are quiet on a compliant release", async () => {
        for (const p of rel.releasePolicies) assert.deepEqual(await messages(p, releaseGraph()), [], p.name);
    });

    it("release-live-service-routes-to-running-pods: missing and scaled-down colors", async () => {
        const toMissing = edit(releaseGraph(), "auth-service", (r) => withProps(r, (p) => (p.spec.selector.color = "purple")));
        assert.match((await messages(rel.liveServiceRoutesToRunningPods, toMissing))[0], /selects app=auth-service,color=purple but no Deployment .* has those pod labels/);
        const scaledDown = edit(releaseGraph(), "auth-service-blue", (r) => withProps(r, (p) => (p.spec.replicas = 0)));
        assert.match((await messages(rel.liveServiceRoutesToRunningPods, scaledDown))[0], /routes to auth-service-blue, scaled to 0; scale the color up/);
    });

    it("release-live-color-not-scaled-to-zero: the color the live Service routes to keeps its replicas", async () => {
        const scaledDown = edit(releaseGraph(), "auth-service-blue", (r) => withProps(r, (p) => (p.spec.replicas = 0)));
        assert.match((await messages(rel.liveColorNotScaledToZero, scaledDown))[0], /auth-service's live color blue is scaled to 0/);
        const idleScaledDown = edit(releaseGraph(), "auth-service-green", (r) => withProps(r, (p) => (p.spec.replicas = 0)));
        assert.deepEqual(await messages(rel.liveColorNotScaledToZero, idleScaledDown), []);
    });

    it("release-live-service-smoke-tested: needs the dependency on the routed color's smoke test", async () => {
        const noEdge = edit(releaseGraph(), "auth-service", (r) => ({ ...r, dependencies: [] }));
        assert.match((await messages(rel.liveServiceSmokeTested, noEdge))[0], /live Service auth-service does not depend on smoke-test Job auth-service-smoke-blue-1-2-3/);
        const wrongColor = edit(releaseGraph(), "auth-service", (r) => ({ ...r, dependencies: [find(releaseGraph(), "auth-service-smoke-green-1-2-3").urn] }));
        assert.match((await messages(rel.liveServiceSmokeTested, wrongColor))[0], /does not depend on smoke-test Job auth-service-smoke-blue/);
        const maintenance = edit(noEdge, "auth-service", (r) => withProps(r, (p) => (p.spec.selector = { app: "maintenance", color: "maintenance" })));
        assert.deepEqual(await messages(rel.liveServiceSmokeTested, maintenance), []);
    });

    it("release-live-service-alerts", async () => {
        const none = releaseGraph().filter((r) => !r.type.endsWith("PrometheusRule"));
        assert.match((await messages(rel.liveServiceHasAlerts, none))[0], /live Service auth-service has no alert rules; add PrometheusRule auth-service-alerts/);
    });

    describe("release-migration-after-snapshot", () => {
        const policy = rel.migrationAfterSnapshot;

        it("fires when the Job does not depend on a snapshot", async () => {
            const graph = edit(releaseGraph(), "migrate-1-2-3", (r) => ({ ...r, dependencies: [] }));
            assert.match((await messages(policy, graph))[0], /migration Job migrate-1-2-3 does not depend on a snapshot of prod-db; take an aws\.rds\.Snapshot/);
        });

        it("fires when the snapshot is of another database", async () => {
            const graph = edit(releaseGraph(), "prod-db-snapshot-1-2-3", (r) => ({ ...withProps(r, (p) => (p.dbInstanceIdentifier = "other-db")), propertyDependencies: {} }));
            assert.match((await messages(policy, graph))[0], /does not depend on a snapshot of prod-db \(it depends on snapshots of other databases: prod-db-snapshot-1-2-3\)/);
        });

        it("decides from the graph when dbInstanceIdentifier and the annotation are unknown during preview", async () => {
            let graph = edit(releaseGraph(), "prod-db-snapshot-1-2-3", (r) => withProps(r, (p) => (p.dbInstanceIdentifier = UNKNOWN)));
            const db = find(graph, "prod-db");
            graph = edit(graph, "migrate-1-2-3", (r) => ({
                ...withProps(r, (p) => (p.metadata.annotations["release-platform/database"] = UNKNOWN)),
                propertyDependencies: { metadata: [db.urn] },
            }));
            assert.deepEqual(await messages(policy, graph), []);
            const otherDb = edit(graph, "prod-db-snapshot-1-2-3", (r) => ({ ...r, propertyDependencies: { dbInstanceIdentifier: ["urn:pulumi:prod::release-platform::aws:rds/instance:Instance::other"] } }));
            assert.match((await messages(policy, otherDb))[0], /does not depend on a snapshot of its database/);
        });

        it("needs the database annotation", async () => {
            const graph = edit(releaseGraph(), "migrate-1-2-3", (r) => withProps(r, (p) => (p.metadata.annotations = {})));
            assert.match((await messages(policy, graph))[0], /annotate it with release-platform\/database/);
        });

        it("checks retainOnDelete only where the analyzer exposes it (the protocol does not today)", async () => {
            const args = (await import("./policyArgs")).stackArgs(releaseGraph());
            const snapshot = args.resources.find((r) => r.type === "aws:rds/snapshot:Snapshot")!;
            assert.equal("retainOnDelete" in snapshot.opts, false, "AnalyzerResourceOptions carries no retainOnDelete");
            (snapshot.opts as any).retainOnDelete = false;
            const found: string[] = [];
            policy.validateStack(args, (m) => found.push(m));
            assert.match(found[0], /snapshot prod-db-snapshot-1-2-3 is not retained on delete; set the resource option retainOnDelete: true/);
        });
    });

    describe("release-change-window", () => {
        const policy = rel.changeWindow;
        const at = (scheduledAt: string, hotfix = "false") => manifest(releaseGraph(), { scheduledAt, hotfix });

        it("accepts Thursday 14:00–16:00 New York time in both EST and EDT", async () => {
            assert.deepEqual(await messages(policy, at("2026-11-26T14:30:00-05:00")), []); // EST
            assert.deepEqual(await messages(policy, at("2026-07-16T18:00:00Z")), []); // 14:00 EDT
            assert.deepEqual(await messages(policy, at("2026-07-16T15:59:00-04:00")), []);
        });

        it("rejects times outside the window, including ones only inside when DST is ignored", async () => {
            // 15:30 at UTC-5 is 16:30 EDT in July: a check that assumed EST all year would accept it.
            assert.match((await messages(policy, at("2026-07-16T15:30:00-05:00")))[0], /is Thursday 16:30 in America\/New_York, outside/);
            assert.deepEqual(await messages(policy, at("2026-07-16T14:30:00-05:00")), []);
            assert.match((await messages(policy, at("2026-07-16T20:00:00Z")))[0], /is Thursday 16:00 in America\/New_York, outside the change window \(Thursday 14:00–16:00 America\/New_York\); reschedule/);
            assert.match((await messages(policy, at("2026-11-25T14:30:00-05:00")))[0], /is Wednesday 14:30/);
        });

        it("rejects a missing or unparsable scheduledAt unless the release is a hotfix", async () => {
            assert.match((await messages(policy, at("")))[0], /no scheduledAt; schedule it inside the change window .* or mark it hotfix/);
            assert.match((await messages(policy, at("2026-11-26 14:30")))[0], /not an ISO 8601 time with offset/);
            assert.deepEqual(await messages(policy, at("", "true")), []);
            assert.deepEqual(await messages(policy, at("2026-11-28T03:00:00Z", "true")), []);
        });

        it("reads the window from config", async () => {
            const config = { "release-change-window": { day: "Tuesday", start: "09:00", end: "10:00", timeZone: "Europe/Istanbul" } };
            assert.deepEqual(await messages(policy, at("2026-11-24T09:15:00+03:00"), config), []);
            assert.equal((await messages(policy, at("2026-11-26T14:30:00-05:00"), config)).length, 1);
        });

        it("does not depend on the clock: the verdict for an unchanged release is the same at any hour", async () => {
            const realNow = Date.now;
            try {
                for (const now of ["2026-11-28T03:00:00Z", "2026-11-26T19:30:00Z"]) {
                    Date.now = () => Date.parse(now);
                    assert.deepEqual(await messages(policy, releaseGraph()), []);
                }
            } finally {
                Date.now = realNow;
            }
            assert.equal(rel.outsideWindow("2026-11-26T14:30:00-05:00", { day: "Thursday", start: "14:00", end: "16:00", timeZone: "America/New_York" }), undefined);
        });
    });
});
