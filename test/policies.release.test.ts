import * as assert from "node:assert/strict";
import { Policies } from "@pulumi/policy";
import * as rel from "../policies/release";
import { PolicyConfigFile, TestResource, analyzeStack, fireAndQuiet, messagesOf, readPolicyConfig, resourceArgs, stackArgs } from "./policyArgs";
import { UNKNOWN, edit, find, releaseGraph, withProps } from "./policyFixtures";
import { ANNOTATIONS } from "../conventions";
import { alertRoutingSpec } from "../components/alertRouting";
import { withUrn } from "./policyArgs";

/** A kube-prometheus-stack release with these Alertmanager values, and the program's own AlertmanagerConfig (or `spec`). */
function monitoringGraph(
    alertmanager: Record<string, any>,
    spec: Record<string, any> = alertRoutingSpec({ paging: true, secretName: "alert-receivers" }),
): TestResource[] {
    return [
        withUrn({ type: "pulumi:pulumi:Stack", name: "release-platform-prod", custom: false }),
        withUrn({
            type: "kubernetes:helm.sh/v3:Release",
            name: "cluster-monitoring",
            props: { chart: "kube-prometheus-stack", namespace: "monitoring", values: { alertmanager } },
        }),
        withUrn({
            type: "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig",
            name: "alert-routing",
            props: { metadata: { name: "alert-routing", namespace: "monitoring" }, spec },
        }),
    ];
}
const GLOBAL_CONFIG = { enabled: true, alertmanagerSpec: { alertmanagerConfiguration: { name: "alert-routing" } } };

async function messages(policy: Policies[number], graph: TestResource[], config: PolicyConfigFile = {}) {
    return messagesOf(await analyzeStack([policy], graph, config));
}

function manifest(graph: TestResource[], data: Record<string, string>) {
    return edit(graph as any, "release-manifest", (r) => withProps(r, (p) => Object.assign(p.data, data)));
}

const REAL_DATE = Date;

/**
 * Runs `run` with the global `Date` replaced by a subclass whose no-argument constructor and
 * `Date.now()` return `iso`; dates built from a value are unaffected. Restores `Date` afterwards.
 */
async function atInstant<T>(iso: string, run: () => Promise<T>): Promise<T> {
    const RealDate = Date;
    const fixed = RealDate.parse(iso);
    class FixedDate extends RealDate {
        constructor(...args: unknown[]) {
            if (args.length === 0) super(fixed);
            else super(...(args as [number, number, number?, number?, number?, number?, number?]));
        }

        static now(): number {
            return fixed;
        }
    }
    globalThis.Date = FixedDate as DateConstructor;
    try {
        assert.equal(new Date().getTime(), fixed, "the stub replaces new Date()");
        assert.equal(Date.now(), fixed, "the stub replaces Date.now()");
        return await run();
    } finally {
        globalThis.Date = RealDate;
    }
}

describe("release policies", () => {
    it("are quiet on a compliant release", async () => {
        for (const p of rel.releasePolicies) assert.deepEqual(await messages(p, releaseGraph()), [], p.name);
    });

    fireAndQuiet("release-live-service-routes-to-running-pods fires on a live Service selecting no Deployment", {
        policy: rel.liveServiceRoutesToRunningPods,
        quiet: releaseGraph(),
        fire: edit(releaseGraph(), "auth-service", (r) => withProps(r, (p) => (p.spec.selector.color = "purple"))),
        expect: /selects app=auth-service,color=purple but no Deployment .* has those pod labels/,
    });
    fireAndQuiet("release-live-color-not-scaled-to-zero fires on the live color at 0 replicas", {
        policy: rel.liveColorNotScaledToZero,
        quiet: releaseGraph(),
        fire: edit(releaseGraph(), "auth-service-blue", (r) => withProps(r, (p) => (p.spec.replicas = 0))),
        expect: /auth-service's live color blue is scaled to 0/,
    });
    fireAndQuiet("release-live-service-smoke-tested fires when the live Service does not depend on its smoke test", {
        policy: rel.liveServiceSmokeTested,
        quiet: releaseGraph(),
        fire: edit(releaseGraph(), "auth-service", (r) => ({ ...r, dependencies: [] })),
        expect: /live Service auth-service does not depend on smoke-test Job auth-service-smoke-blue-1-2-3/,
    });
    fireAndQuiet("release-live-service-alerts fires on a live Service without alert rules", {
        policy: rel.liveServiceHasAlerts,
        quiet: releaseGraph(),
        fire: releaseGraph().filter((r) => !r.type.endsWith("PrometheusRule")),
        expect: /live Service auth-service has no alert rules; add PrometheusRule auth-service-alerts/,
    });
    fireAndQuiet("release-alerts-reach-a-receiver fires on Alertmanager left with the chart's default route", {
        policy: rel.alertsReachAReceiver,
        quiet: monitoringGraph(GLOBAL_CONFIG),
        fire: monitoringGraph({ enabled: true }),
        expect: /release cluster-monitoring: Alertmanager keeps the chart's default configuration, which routes every alert to receiver "null" with no integration/,
    });

    it("release-alerts-reach-a-receiver: the named AlertmanagerConfig must exist and its root route reach an integration", async () => {
        const policy = rel.alertsReachAReceiver;
        const noConfig = monitoringGraph(GLOBAL_CONFIG).filter((r) => !r.type.endsWith("AlertmanagerConfig"));
        assert.match((await messages(policy, noConfig))[0], /names AlertmanagerConfig alert-routing .* but the stack has none by that name in monitoring/);
        const spec = alertRoutingSpec({ paging: false, secretName: "alert-receivers" });
        const toDiscard = monitoringGraph(GLOBAL_CONFIG, { ...spec, route: { ...spec.route, receiver: "discard" } });
        assert.match((await messages(policy, toDiscard))[0], /its AlertmanagerConfig alert-routing routes to receiver "discard", which has no integration/);
        const undefinedReceiver = monitoringGraph(GLOBAL_CONFIG, { ...spec, route: { ...spec.route, receiver: "team" } });
        assert.match((await messages(policy, undefinedReceiver))[0], /routes to receiver "team", which it does not define/);
    });

    it("release-alerts-reach-a-receiver: quiet on a disabled Alertmanager and on alertmanager.config with an integration", async () => {
        const policy = rel.alertsReachAReceiver;
        assert.deepEqual(await messages(policy, monitoringGraph({ enabled: false })), []);
        const ownConfig = { route: { receiver: "team" }, receivers: [{ name: "team", slack_configs: [{ channel: "#alerts" }] }] };
        assert.deepEqual(await messages(policy, monitoringGraph({ enabled: true, config: ownConfig })), []);
        const nullReceiver = { route: { receiver: "null" }, receivers: [{ name: "null" }] };
        assert.match(
            (await messages(policy, monitoringGraph({ enabled: true, config: nullReceiver })))[0],
            /alertmanager\.config\) routes to receiver "null", which has no integration/,
        );
    });

    fireAndQuiet("release-migration-after-snapshot fires on a migration Job without snapshot dependency", {
        policy: rel.migrationAfterSnapshot,
        quiet: releaseGraph(),
        fire: edit(releaseGraph(), "migrate-1-2-3", (r) => ({ ...r, dependencies: [] })),
        expect: /migration Job migrate-1-2-3 does not depend on a snapshot of prod-db; take an aws\.rds\.Snapshot/,
    });
    fireAndQuiet("release-change-window fires on a release scheduled on a Friday", {
        policy: rel.changeWindow,
        quiet: releaseGraph(),
        fire: manifest(releaseGraph(), { scheduledAt: "2026-11-27T14:30:00-05:00" }),
        expect: /scheduledAt 2026-11-27T14:30:00-05:00 is Friday 14:30 in America\/New_York, outside the change window/,
    });

    it("release-live-service-routes-to-running-pods: a scaled-down color", async () => {
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
        assert.match(
            (await messages(rel.liveServiceSmokeTested, noEdge))[0],
            /live Service auth-service does not depend on smoke-test Job auth-service-smoke-blue-1-2-3/,
        );
        const wrongColor = edit(releaseGraph(), "auth-service", (r) => ({ ...r, dependencies: [find(releaseGraph(), "auth-service-smoke-green-1-2-3").urn] }));
        assert.match((await messages(rel.liveServiceSmokeTested, wrongColor))[0], /does not depend on smoke-test Job auth-service-smoke-blue/);
        const maintenance = edit(noEdge, "auth-service", (r) => withProps(r, (p) => (p.spec.selector = { app: "maintenance", color: "maintenance" })));
        assert.deepEqual(await messages(rel.liveServiceSmokeTested, maintenance), []);
    });

    describe("release-migration-after-snapshot", () => {
        const policy = rel.migrationAfterSnapshot;

        it("fires when the snapshot is of another database", async () => {
            const graph = edit(releaseGraph(), "prod-db-snapshot-1-2-3", (r) => ({
                ...withProps(r, (p) => (p.dbInstanceIdentifier = "other-db")),
                propertyDependencies: {},
            }));
            assert.match(
                (await messages(policy, graph))[0],
                /does not depend on a snapshot of prod-db \(it depends on snapshots of other databases: prod-db-snapshot-1-2-3\)/,
            );
        });

        it("decides from the graph when dbInstanceIdentifier and the annotation are unknown during preview", async () => {
            let graph = edit(releaseGraph(), "prod-db-snapshot-1-2-3", (r) => withProps(r, (p) => (p.dbInstanceIdentifier = UNKNOWN)));
            const db = find(graph, "prod-db");
            graph = edit(graph, "migrate-1-2-3", (r) => ({
                ...withProps(r, (p) => (p.metadata.annotations[ANNOTATIONS.database] = UNKNOWN)),
                propertyDependencies: { metadata: [db.urn] },
            }));
            assert.deepEqual(await messages(policy, graph), []);
            const otherDb = edit(graph, "prod-db-snapshot-1-2-3", (r) => ({
                ...r,
                propertyDependencies: { dbInstanceIdentifier: ["urn:pulumi:prod::release-platform::aws:rds/instance:Instance::other"] },
            }));
            assert.match((await messages(policy, otherDb))[0], /does not depend on a snapshot of its database/);
        });

        it("needs the database annotation", async () => {
            const graph = edit(releaseGraph(), "migrate-1-2-3", (r) => withProps(r, (p) => (p.metadata.annotations = {})));
            assert.match((await messages(policy, graph))[0], /annotate it with release-platform\/database/);
        });

        it("can't see retainOnDelete: analyzer-shaped options carry no such field (the program guarantees it)", async () => {
            // AnalyzerResourceOptions has no retainOnDelete; test/policies.analyzer.test.ts checks the
            // protocol itself. If a future SDK sends it, this fails: then check it here.
            const snapshot = find(releaseGraph(), "prod-db-snapshot-1-2-3");
            const fromStack = (await stackArgs(releaseGraph())).resources.find((r) => r.urn === snapshot.urn)!;
            for (const opts of [fromStack.opts, (await resourceArgs(snapshot)).opts]) {
                assert.equal("retainOnDelete" in opts, false, `options: ${Object.keys(opts).join(", ")}`);
            }
            assert.match(policy.description, /retainOnDelete is invisible to CrossGuard and guaranteed by the program/);
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
            assert.match(
                (await messages(policy, at("2026-07-16T20:00:00Z")))[0],
                /is Thursday 16:00 in America\/New_York, outside the change window \(Thursday 14:00–16:00 America\/New_York\); reschedule/,
            );
            assert.match((await messages(policy, at("2026-11-25T14:30:00-05:00")))[0], /is Wednesday 14:30/);
        });

        it("rejects a missing or unparsable scheduledAt unless the release is a hotfix", async () => {
            assert.match((await messages(policy, at("")))[0], /no scheduledAt; schedule it inside the change window .* or mark it hotfix/);
            assert.match((await messages(policy, at("2026-11-26 14:30")))[0], /not an ISO 8601 time with offset/);
            assert.deepEqual(await messages(policy, at("", "true")), []);
            assert.deepEqual(await messages(policy, at("2026-11-28T03:00:00Z", "true")), []);
        });

        it("with requireSchedule: false (staging), an unscheduled release is quiet but a declared time is still checked", async () => {
            const staging = readPolicyConfig("staging");
            assert.deepEqual((await analyzeStack([policy], at(""), staging)).diagnostics, []);
            const outside = await analyzeStack([policy], at("2026-11-27T14:30:00-05:00"), staging);
            assert.deepEqual(
                outside.diagnostics.map((d) => d.enforcementLevel),
                ["advisory"],
            );
        });

        it("reads the window from config", async () => {
            const config = { "release-change-window": { day: "Tuesday", start: "09:00", end: "10:00", timeZone: "Europe/Istanbul" } };
            assert.deepEqual(await messages(policy, at("2026-11-24T09:15:00+03:00"), config), []);
            assert.equal((await messages(policy, at("2026-11-26T14:30:00-05:00"), config)).length, 1);
        });

        describe("with prod's policy config", () => {
            const prod = readPolicyConfig("prod");

            it("a non-hotfix release outside the window is a mandatory violation", async () => {
                const result = await analyzeStack([policy], at("2026-11-27T14:30:00-05:00"), prod);
                assert.deepEqual(
                    result.diagnostics.map((d) => [d.enforcementLevel, d.urn?.split("::").pop()]),
                    [["mandatory", "release-manifest"]],
                );
                assert.match(messagesOf(result)[0], /is Friday 14:30 in America\/New_York, outside the change window/);
            });

            it("a hotfix outside the window is quiet", async () => {
                assert.deepEqual((await analyzeStack([policy], at("2026-11-27T14:30:00-05:00", "true"), prod)).diagnostics, []);
                assert.deepEqual((await analyzeStack([policy], at("2026-11-28T03:00:00Z", "true"), prod)).diagnostics, []);
            });

            it("a release without scheduledAt is a mandatory violation", async () => {
                const absent = edit(releaseGraph(), "release-manifest", (r) => withProps(r, (p) => delete p.data.scheduledAt));
                for (const graph of [at(""), absent]) {
                    const result = await analyzeStack([policy], graph, prod);
                    assert.deepEqual(
                        result.diagnostics.map((d) => d.enforcementLevel),
                        ["mandatory"],
                    );
                    assert.match(
                        messagesOf(result)[0],
                        /the release has no scheduledAt; schedule it inside the change window \(Thursday 14:00–16:00 America\/New_York\) or mark it hotfix/,
                    );
                }
            });
        });

        it("does not depend on the clock: identical verdicts and messages at any instant, across DST changes", async () => {
            const prod = readPolicyConfig("prod");
            const releases: Record<string, TestResource[]> = {
                inside: at("2026-11-26T14:30:00-05:00"),
                outside: at("2026-11-27T14:30:00-05:00"),
                insideEdt: at("2026-07-16T14:30:00-04:00"),
                hotfixOutside: at("2026-11-28T03:00:00Z", "true"),
                unscheduled: at(""),
            };
            const verdicts = async () => {
                const all: Record<string, string[]> = {};
                for (const [name, graph] of Object.entries(releases)) {
                    all[name] = (await analyzeStack([policy], graph, prod)).diagnostics.map((d) => `${d.enforcementLevel} ${d.urn} ${d.message}`);
                }
                return all;
            };
            const expected = await verdicts();
            assert.deepEqual(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v.length])), {
                inside: 0,
                outside: 1,
                insideEdt: 0,
                hotfixOutside: 0,
                unscheduled: 1,
            });
            const instants = [
                "2026-11-26T19:30:00Z", // Thursday 14:30 EST: inside the window
                "2026-11-28T03:00:00Z", // Friday 22:00 EST: outside
                "2026-07-16T18:30:00Z", // Thursday 14:30 EDT: inside
                "2026-03-08T06:59:00Z", // 01:59 EST, one minute before the spring-forward change
                "2026-03-08T07:01:00Z", // 03:01 EDT, just after it
                "2026-11-01T05:30:00Z", // 01:30 EDT, before the fall-back change
                "2026-11-01T06:30:00Z", // 01:30 EST, the repeated hour after it
            ];
            for (const instant of instants) {
                assert.deepEqual(await atInstant(instant, verdicts), expected, `at ${instant}`);
            }
            assert.equal(Date, REAL_DATE, "Date is restored");
        });
    });
});
