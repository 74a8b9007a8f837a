// The release rules and the change window as pure functions (no program evaluation), and what a
// switch may change, checked against engine events.
import * as assert from "node:assert/strict";
import * as path from "path";
import type { StepEventMetadata } from "@pulumi/pulumi/automation";
import { changeWindowOf, isoInZone, isOpen, nextOpening } from "../release/changeWindow";
import { planStep, ReleaseState, serviceStatus } from "../release/rules";
import { checkDiff, checkEngineSteps, switchChanges } from "../release/allowedChanges";
import { diffResources } from "../offline/planDiff";
import { readStackConfig, ROOT } from "./harness";
import { parseStackConfig } from "../config";
import { releaseStepNotes } from "../release/state";
import { ROLE_LABEL } from "../conventions";

const prodWindow = changeWindowOf(path.join(ROOT, "policies", "config", "prod.json"));
const stagingWindow = changeWindowOf(path.join(ROOT, "policies", "config", "staging.json"));

function state(overrides: Partial<ReleaseState> = {}): ReleaseState {
    return {
        stack: "prod",
        services: [{ name: "auth-service", live: "blue", blue: { version: "1.2.2", replicas: 5 }, green: { version: "1.2.3", replicas: 5 }, minReplicas: 5 }],
        release: { version: "1.2.3", scheduledAt: "2026-10-29T14:10:00-04:00", hotfix: false },
        migrations: [],
        rollbackWindow: { text: "24h", ms: 24 * 3_600_000 },
        ...overrides,
    };
}

describe("change window", () => {
    it("comes from the stack's policy config: enforced in prod, not in staging", () => {
        assert.deepEqual(prodWindow, { day: "Thursday", start: "14:00", end: "16:00", timeZone: "America/New_York", enforced: true });
        assert.equal(stagingWindow.enforced, false);
    });

    it("is open Thursdays 14:00–16:00 New York time on both sides of the end of daylight saving time", () => {
        // 2026-11-01 ends EDT (UTC-4); EST (UTC-5) after. The same UTC time is inside one week, outside the next.
        assert.equal(isOpen(prodWindow, new Date("2026-10-29T18:30:00Z")), true);
        assert.equal(isOpen(prodWindow, new Date("2026-11-05T18:30:00Z")), false);
        assert.equal(isOpen(prodWindow, new Date("2026-11-05T19:30:00Z")), true);
        assert.equal(isOpen(prodWindow, new Date("2026-10-29T20:30:00Z")), false);
        assert.equal(isOpen(prodWindow, new Date("2026-11-05T20:59:00Z")), true);
        assert.equal(isOpen(prodWindow, new Date("2026-11-05T21:00:00Z")), false);
    });

    it("names the next opening in the window's time zone, across a DST change", () => {
        assert.equal(isoInZone(nextOpening(prodWindow, new Date("2026-10-29T20:30:00Z")), "America/New_York"), "2026-11-05T14:00:00-05:00");
        assert.equal(isoInZone(nextOpening(prodWindow, new Date("2026-03-06T12:00:00Z")), "America/New_York"), "2026-03-12T14:00:00-04:00");
        assert.equal(isoInZone(nextOpening(prodWindow, new Date("2026-11-05T18:59:00Z")), "America/New_York"), "2026-11-05T14:00:00-05:00");
    });
});

describe("release rules", () => {
    const inside = new Date("2026-10-29T18:30:00Z");
    const outside = new Date("2026-11-05T18:30:00Z");

    it("deploy puts the version on the idle color with the live replicas and records the release", () => {
        const plan = planStep(state(), { step: "deploy", services: ["auth-service"], now: inside, window: prodWindow, version: "1.2.4" });
        assert.deepEqual(plan.refusals, []);
        assert.deepEqual(
            plan.edits.map((e) => [e.path.slice(1).join("."), "value" in e ? e.value : e.append]),
            [
                ["auth-service.green.version", "1.2.4"],
                ["version", "1.2.4"],
                ["scheduledAt", "2026-10-29T14:30:00-04:00"],
            ],
        );
    });

    it("prod deploy and promote are refused outside the window unless hotfix; rollback never is", () => {
        for (const step of ["deploy", "promote"] as const) {
            const req = { step, services: ["auth-service"], now: outside, window: prodWindow, version: step === "deploy" ? "1.2.4" : undefined };
            assert.deepEqual(
                planStep(state(), req).refusals.map((r) => r.rule),
                ["change-window"],
                step,
            );
            const hotfix = planStep(state(), { ...req, hotfix: true });
            assert.deepEqual(hotfix.refusals, [], step);
            assert.ok(
                hotfix.edits.some((e) => e.path.join(".") === "release-platform:release.hotfix" && "value" in e && e.value === true),
                step,
            );
        }
        const promoted = state({ services: [{ ...state().services[0], live: "green" }] });
        assert.deepEqual(planStep(promoted, { step: "rollback", services: ["auth-service"], now: outside, window: prodWindow }).refusals, []);
    });

    it("a promote in the opening of its deploy keeps the deploy's time, so it changes only the live color", () => {
        const plan = planStep(state(), { step: "promote", services: ["auth-service"], now: new Date("2026-10-29T18:40:00Z"), window: prodWindow });
        assert.deepEqual(
            plan.edits.map((e) => e.path.slice(1).join(".")),
            ["auth-service.live", "auth-service.promotedAt"],
        );
        const nextWeek = planStep(state(), { step: "promote", services: ["auth-service"], now: new Date("2026-11-05T19:40:00Z"), window: prodWindow });
        assert.ok(nextWeek.edits.some((e) => e.path.join(".") === "release-platform:release.scheduledAt"));
    });

    it("rollback --to deploys a version no color runs to the idle color and switches to it, outside the window as a hotfix", () => {
        const finished = state({ services: [{ ...state().services[0], live: "green", blue: { version: "1.2.2", replicas: 0 } }] });
        const plain = planStep(finished, { step: "rollback", services: ["auth-service"], now: outside, window: prodWindow });
        assert.deepEqual(
            plain.refusals.map((r) => r.rule),
            ["rollback-previous-color-running"],
        );
        const to = planStep(finished, { step: "rollback", services: ["auth-service"], now: outside, window: prodWindow, version: "1.2.1" });
        assert.deepEqual(to.refusals, []);
        assert.deepEqual(to.switched, ["auth-service"]);
        assert.deepEqual(
            to.edits.map((e) => [e.path.slice(1).join("."), "value" in e ? e.value : e.append]),
            [
                ["auth-service.blue.version", "1.2.1"],
                ["auth-service.blue.replicas", 5],
                ["auth-service.live", "blue"],
                ["auth-service.promotedAt", "2026-11-05T13:30:00-05:00"],
                ["version", "1.2.1"],
                ["hotfix", true],
                ["scheduledAt", "2026-11-05T13:30:00-05:00"],
            ],
        );
    });

    it("staging has no enforced window and gets no scheduledAt", () => {
        const staging = state({ stack: "staging", release: { version: "1.2.3", hotfix: false } });
        const plan = planStep(staging, { step: "deploy", services: ["auth-service"], now: outside, window: stagingWindow, version: "1.2.4" });
        assert.deepEqual(plan.refusals, []);
        assert.ok(!plan.edits.some((e) => e.path.includes("scheduledAt")));
    });

    it("status lists the steps allowed now and why the others are not", () => {
        const st = serviceStatus(state(), state().services[0], inside, prodWindow);
        assert.deepEqual(st.allowed, ["deploy", "promote"]);
        assert.deepEqual(
            st.blocked.map((b) => [b.step, /\[(\S+)\]$/.exec(b.reason)?.[1]]),
            [
                ["rollback", "rollback-after-promote"],
                ["finish", "finish-after-promote"],
            ],
        );
    });
});

describe("release notes of the offline plan", () => {
    it("name per service the live color and the steps the rules allow now", () => {
        const source = readStackConfig("staging");
        const notes = releaseStepNotes(
            parseStackConfig(source.config, "staging", source.file, source.secretKeys),
            stagingWindow,
            new Date("2026-11-30T15:05:00Z"),
        );
        assert.deepEqual(notes, [
            "Release: auth-service runs 1.2.3 live on green; steps allowed now: deploy, rollback (npm run release -- status --stack staging says why).",
            "Release: user-service runs 1.2.3 live on green; steps allowed now: deploy (npm run release -- status --stack staging says why).",
            "Release: org-service runs 1.2.2 live on blue; steps allowed now: deploy, promote (npm run release -- status --stack staging says why).",
        ]);
    });
});

describe("what a switch may change", () => {
    const svc = (name: string, role: string, app: string, color: string) => ({
        urn: `urn:pulumi:prod::release-platform::kubernetes:core/v1:Service::${name}`,
        type: "kubernetes:core/v1:Service",
        custom: true,
        inputs: { metadata: { name, labels: { app, [ROLE_LABEL]: role } }, spec: { selector: { app, color }, ports: [{ port: 3000 }] } },
    });
    const deployment = (replicas: number) => ({
        urn: "urn:pulumi:prod::release-platform::kubernetes:apps/v1:Deployment::auth-service-blue",
        type: "kubernetes:apps/v1:Deployment",
        custom: true,
        inputs: { metadata: { name: "auth-service-blue" }, spec: { replicas } },
    });
    const before = [
        svc("auth-service", "live", "auth-service", "blue"),
        svc("auth-service-preview", "preview", "auth-service", "green"),
        svc("user-service", "live", "user-service", "blue"),
        deployment(5),
    ];

    it("targets the switched services' live and preview Services, found by their labels", () => {
        assert.deepEqual(switchChanges(before, ["auth-service"]).targets, [before[0].urn, before[1].urn]);
    });

    it("flags a plan diff that changes anything but those selectors", () => {
        const allowed = switchChanges(before, ["auth-service"]);
        const after = [
            svc("auth-service", "live", "auth-service", "green"),
            svc("auth-service-preview", "preview", "auth-service", "blue"),
            before[2],
            deployment(0),
        ];
        const problems = checkDiff(diffResources(before, after), allowed);
        assert.deepEqual(problems, [
            "update of kubernetes:apps/v1:Deployment auth-service-blue, which this step may not change (it may change only 2 Service selectors)",
        ]);
        assert.deepEqual(checkDiff(diffResources(before, [...after.slice(0, 3), deployment(5)]), allowed), []);
    });

    it("aborts on engine events beyond the step: other resources, other paths, any replace or delete of a Deployment", () => {
        const allowed = switchChanges(before, ["auth-service"]);
        const step = (urn: string, type: string, op: StepEventMetadata["op"], paths: string[]): StepEventMetadata =>
            ({
                op,
                urn,
                type,
                provider: "",
                detailedDiff: Object.fromEntries(paths.map((p) => [p, { diffKind: "update", inputDiff: true }])),
            }) as unknown as StepEventMetadata;
        assert.deepEqual(
            checkEngineSteps(
                [step(before[0].urn, before[0].type, "update", ["spec.selector.color"]), step(before[3].urn, before[3].type, "same", [])],
                allowed,
            ),
            [],
        );
        assert.deepEqual(checkEngineSteps([step(before[0].urn, before[0].type, "update", ["spec.ports[0].port"])], allowed), [
            "kubernetes:core/v1:Service auth-service changes spec.ports[0].port; this step may change only spec.selector",
        ]);
        assert.match(
            checkEngineSteps([step(before[3].urn, before[3].type, "replace", ["spec.selector"])], {}).join(),
            /^replace of kubernetes:apps\/v1:Deployment auth-service-blue: a release step never replaces or deletes/,
        );
        assert.match(
            checkEngineSteps([step(before[2].urn, before[2].type, "update", ["spec.selector.color"])], allowed).join(),
            /user-service, which this step may not change/,
        );
    });
});
