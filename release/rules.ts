// The release's transition rules: which step may run on which service now, and what it changes in
// the stack config. Pure functions of the release state (from the stack file), the request and the
// clock; the `release` command, `plan` and the tests all decide through this module.
//
// A service runs blue/green: the live color takes traffic, the idle one is where a release is
// deployed, smoke-tested through the preview Service, then promoted. The previous color keeps
// running for the stack's rollback window, then `finish` scales it to 0.
import { Color, idleColor, ROLLBACK_WINDOW_PATTERN } from "../config";
import { parseImageReference } from "../naming";
import { ChangeWindow, describeWindow, isoInZone, isOpen, nextOpening, openingAt } from "./changeWindow";

export const STEPS = ["deploy", "promote", "rollback", "finish"] as const;
export type StepName = (typeof STEPS)[number];

export interface ColorState {
    version: string;
    replicas: number;
}

export interface ServiceState {
    name: string;
    live: Color;
    blue: ColorState;
    green: ColorState;
    /** The fewest replicas the live color may run (its autoscaling minimum). */
    minReplicas: number;
    /** When the live color last changed (promote or rollback), ISO 8601. */
    promotedAt?: string;
}

export interface ReleaseState {
    stack: string;
    services: ServiceState[];
    release: { version: string; scheduledAt?: string; hotfix: boolean };
    migrations: { release: string; image: string }[];
    /** How long the previous color stays runnable after a promote before `finish` may scale it down. */
    rollbackWindow: { text: string; ms: number };
}

/** A change to the stack config: `path` below `config:` (keys already namespaced), or an item appended to a list. */
export type ConfigEdit = { path: (string | number)[]; value: unknown } | { path: (string | number)[]; append: Record<string, unknown> };

export interface StepRequest {
    step: StepName;
    /** Services the step applies to (`--service` or `--all`). */
    services: string[];
    now: Date;
    window: ChangeWindow;
    /** deploy: the version; rollback: `--to`. */
    version?: string;
    /** deploy: the color to deploy to; defaults to the idle one. */
    color?: Color;
    migrationImage?: string;
    hotfix?: boolean;
}

export interface Refusal {
    /** The service the refusal is about; absent when it concerns the whole stack. */
    service?: string;
    rule: string;
    message: string;
}

export interface StepPlan {
    step: StepName;
    edits: ConfigEdit[];
    refusals: Refusal[];
    /** Services already in the state the step leads to. */
    unchanged: { service: string; reason: string }[];
    /** Services whose live color the step switches. */
    switched: string[];
    /** Services that get a new version on a color. */
    deployed: string[];
    notes: string[];
}

export const PROJECT_PREFIX = "release-platform:";
const key = (k: string) => `${PROJECT_PREFIX}${k}`;
const SERVICES = key("services");
const RELEASE = key("release");
const MIGRATIONS = key("migrations");

/** What one service's step yields: edits, a refusal, or nothing to do. */
type ServiceOutcome = { edits: ConfigEdit[]; switched?: boolean; deployed?: boolean } | { refusal: Refusal } | { unchanged: string };

// ---- Per-service rules --------------------------------------------------------------------------

function refuse(service: ServiceState, rule: string, message: string): ServiceOutcome {
    return { refusal: { service: service.name, rule, message: `${service.name}: ${message}` } };
}

function idleOf(s: ServiceState): Color {
    return idleColor(s.live);
}

function colorEdits(s: ServiceState, color: Color, state: ColorState): ConfigEdit[] {
    const edits: ConfigEdit[] = [];
    if (s[color].version !== state.version) edits.push({ path: [SERVICES, s.name, color, "version"], value: state.version });
    if (s[color].replicas !== state.replicas) edits.push({ path: [SERVICES, s.name, color, "replicas"], value: state.replicas });
    return edits;
}

function switchEdits(s: ServiceState, now: string): ConfigEdit[] {
    return [
        { path: [SERVICES, s.name, "live"], value: idleOf(s) },
        { path: [SERVICES, s.name, "promotedAt"], value: now },
    ];
}

/** Deploy puts the version on the idle color with the replicas the live color runs. */
export function deployService(s: ServiceState, version: string, color: Color | undefined): ServiceOutcome {
    const idle = idleOf(s);
    const live = s[s.live];
    if (color !== undefined && color === s.live) {
        return refuse(
            s,
            "deploy-to-idle-color",
            `${color} is the live color; a new version on it would be a rolling update of live traffic without the smoke-test gate. Deploy to the idle color ${idle}`,
        );
    }
    if (live.version === version) return refuse(s, "deploy-new-version", `${version} is already live on ${s.live}`);
    const edits = colorEdits(s, idle, { version, replicas: live.replicas });
    if (!edits.length) return { unchanged: `${idle} already runs ${version} with ${live.replicas} replicas` };
    return { edits, deployed: true };
}

/** Promote makes the idle color live, once it runs the release's version with the live replica minimum. */
export function promoteService(s: ServiceState, releaseVersion: string): ServiceOutcome {
    const idle = idleOf(s);
    const candidate = s[idle];
    if (s[s.live].version === releaseVersion && candidate.version !== releaseVersion) {
        return { unchanged: `${releaseVersion} is already live on ${s.live}` };
    }
    if (candidate.version !== releaseVersion) {
        return refuse(
            s,
            "promote-release-version",
            `the idle color ${idle} runs ${candidate.version}, not the release's version ${releaseVersion}; deploy ${releaseVersion} first`,
        );
    }
    if (candidate.replicas < s.minReplicas) {
        return refuse(
            s,
            "promote-min-replicas",
            `the idle color ${idle} runs ${candidate.replicas} replicas, below the live minimum ${s.minReplicas}; deploy it with the live color's replicas first`,
        );
    }
    return { edits: [], switched: true };
}

/** Rollback makes the previous color live again while it still runs. */
export function rollbackService(s: ServiceState, releaseVersion: string): ServiceOutcome {
    const idle = idleOf(s);
    const previous = s[idle];
    if (previous.replicas === 0) {
        return refuse(
            s,
            "rollback-previous-color-running",
            `the previous color ${idle} is scaled down (finished); roll back with --to <version> to deploy a version and switch to it`,
        );
    }
    if (previous.version === releaseVersion && s[s.live].version !== releaseVersion) {
        return refuse(
            s,
            "rollback-after-promote",
            `the idle color ${idle} runs the release ${releaseVersion}, which is not live: there is nothing to roll back (promote it, or roll back with --to <version>)`,
        );
    }
    if (previous.replicas < s.minReplicas) {
        return refuse(
            s,
            "rollback-min-replicas",
            `the previous color ${idle} runs ${previous.replicas} replicas, below the live minimum ${s.minReplicas}; roll back with --to <version>`,
        );
    }
    return { edits: [], switched: true };
}

/** Rollback to a version: switch to the color running it, or deploy it to the idle color and switch. */
export function rollbackServiceTo(s: ServiceState, version: string): ServiceOutcome {
    const idle = idleOf(s);
    if (s[s.live].version === version) return { unchanged: `${version} is already live on ${s.live}` };
    if (s[idle].version === version && s[idle].replicas >= s.minReplicas) return { edits: [], switched: true };
    return { edits: colorEdits(s, idle, { version, replicas: s[s.live].replicas }), switched: true, deployed: true };
}

/** Finish scales the previous color to 0, only once the rollback window since the promote has passed. */
export function finishService(s: ServiceState, state: ReleaseState, now: Date): ServiceOutcome {
    const idle = idleOf(s);
    if (s[idle].replicas === 0) return { unchanged: `the previous color ${idle} is already scaled to 0` };
    if (s[idle].version === state.release.version && s[s.live].version !== state.release.version) {
        return refuse(
            s,
            "finish-after-promote",
            `the idle color ${idle} runs the release ${state.release.version}, which was never promoted; promote it first (or deploy over it)`,
        );
    }
    if (!s.promotedAt) {
        return refuse(
            s,
            "finish-after-rollback-window",
            `the stack file does not say when ${s.live} was promoted (services.${s.name}.promotedAt), so the rollback window can't be checked`,
        );
    }
    const ends = new Date(Date.parse(s.promotedAt) + state.rollbackWindow.ms);
    if (now.getTime() < ends.getTime()) {
        return refuse(
            s,
            "finish-after-rollback-window",
            `the rollback window (${state.rollbackWindow.text} after the promote at ${s.promotedAt}) is open until ${ends.toISOString()}, ${describeDuration(ends.getTime() - now.getTime())} from now; ${idle} stays runnable until then`,
        );
    }
    return { edits: colorEdits(s, idle, { version: s[idle].version, replicas: 0 }) };
}

// ---- Whole step ---------------------------------------------------------------------------------

/** Decides a step for the requested services; refusals name the service and the rule. */
export function planStep(state: ReleaseState, req: StepRequest): StepPlan {
    const plan: StepPlan = { step: req.step, edits: [], refusals: [], unchanged: [], switched: [], deployed: [], notes: [] };
    const services = selectServices(state, req.services, plan);
    const nowText = isoInZone(req.now, req.window.timeZone);
    const releaseVersion = req.step === "deploy" || (req.step === "rollback" && req.version) ? req.version! : state.release.version;
    if (req.step === "deploy" && !req.version) plan.refusals.push({ rule: "deploy-version", message: "deploy needs --version <v>" });

    for (const s of services) {
        const outcome = serviceOutcome(state, s, req, releaseVersion);
        if ("refusal" in outcome) plan.refusals.push(outcome.refusal);
        else if ("unchanged" in outcome) plan.unchanged.push({ service: s.name, reason: outcome.unchanged });
        else {
            plan.edits.push(...outcome.edits);
            if (outcome.switched) {
                plan.edits.push(...switchEdits(s, nowText));
                plan.switched.push(s.name);
            }
            if (outcome.deployed) plan.deployed.push(s.name);
        }
    }
    if (req.step === "deploy" && req.version) migrationEdits(state, req, plan);
    if (plan.edits.length) releaseEdits(state, req, releaseVersion, plan);
    if (plan.refusals.length) plan.edits = [];
    return plan;
}

function serviceOutcome(state: ReleaseState, s: ServiceState, req: StepRequest, releaseVersion: string): ServiceOutcome {
    switch (req.step) {
        case "deploy":
            return req.version ? deployService(s, req.version, req.color) : { unchanged: "no version" };
        case "promote":
            return promoteService(s, releaseVersion);
        case "rollback":
            return req.version ? rollbackServiceTo(s, req.version) : rollbackService(s, releaseVersion);
        case "finish":
            return finishService(s, state, req.now);
    }
}

function selectServices(state: ReleaseState, names: string[], plan: StepPlan): ServiceState[] {
    const known = new Map(state.services.map((s) => [s.name, s]));
    for (const name of names) {
        if (!known.has(name))
            plan.refusals.push({
                service: name,
                rule: "known-service",
                message: `${name}: no such service in the stack (services: ${[...known.keys()].join(", ")})`,
            });
    }
    return names.map((n) => known.get(n)).filter((s): s is ServiceState => !!s);
}

/** A deploy with a migration image lists the release under `migrations`, so its snapshot and Job come with it. */
function migrationEdits(state: ReleaseState, req: StepRequest, plan: StepPlan): void {
    if (!req.migrationImage) return;
    const image = parseImageReference(req.migrationImage);
    if (typeof image === "string" || (image.digest === undefined && (image.tag === undefined || image.tag.toLowerCase() === "latest"))) {
        plan.refusals.push({
            rule: "pinned-image",
            message: `--migration-image ${req.migrationImage} is not pinned; give a version tag (":${req.version}") or a digest ("@sha256:…")`,
        });
        return;
    }
    const listed = state.migrations.find((m) => m.release === req.version);
    if (listed && listed.image !== req.migrationImage) {
        plan.refusals.push({ rule: "one-migration-per-release", message: `release ${req.version} already lists migration image ${listed.image}` });
    } else if (!listed) {
        plan.edits.push({ path: [MIGRATIONS], append: { release: req.version!, image: req.migrationImage } });
    }
}

/**
 * The release record the policy pack checks. Where the change window is enforced, deploy and
 * promote run only inside it (or as a hotfix) and record the time they run; a rollback is never
 * blocked, and outside the window it is recorded as a hotfix so the pack lets it through.
 */
function releaseEdits(state: ReleaseState, req: StepRequest, releaseVersion: string, plan: StepPlan): void {
    const w = req.window;
    const open = isOpen(w, req.now);
    const hotfix = req.hotfix === true || (req.step !== "deploy" && state.release.hotfix);
    const changesVersion = releaseVersion !== state.release.version;
    if (w.enforced && !open && !hotfix && (req.step === "deploy" || req.step === "promote")) {
        plan.refusals.push({
            rule: "change-window",
            message: `${req.step} in ${state.stack} runs only inside the change window (${describeWindow(w)}); it is ${isoInZone(req.now, w.timeZone)} now, next opening ${isoInZone(nextOpening(w, req.now), w.timeZone)}. Use --hotfix for a hotfix`,
        });
        return;
    }
    if (req.step === "finish" || (req.step === "rollback" && !changesVersion)) return;
    const edits: ConfigEdit[] = [];
    if (changesVersion) edits.push({ path: [RELEASE, "version"], value: releaseVersion });
    const wantHotfix = req.step === "deploy" ? req.hotfix === true : hotfix || (req.step === "rollback" && w.enforced && !open);
    if (wantHotfix !== state.release.hotfix) edits.push({ path: [RELEASE, "hotfix"], value: wantHotfix });
    if ((w.enforced || state.release.scheduledAt !== undefined) && !scheduledInCurrentOpening(state, w, req.now, changesVersion)) {
        edits.push({ path: [RELEASE, "scheduledAt"], value: isoInZone(req.now, w.timeZone) });
    }
    plan.edits.push(...edits);
}

/**
 * A promote in the same opening of the window as its deploy keeps the deploy's time: the record
 * is already true (the release goes out in this opening), and the promote changes only selectors.
 */
function scheduledInCurrentOpening(state: ReleaseState, w: ChangeWindow, now: Date, changesVersion: boolean): boolean {
    const at = state.release.scheduledAt;
    if (changesVersion || !at) return false;
    const current = openingAt(w, now);
    const recorded = openingAt(w, new Date(at));
    return !!current && !!recorded && current.opens.getTime() === recorded.opens.getTime() && Date.parse(at) <= now.getTime();
}

// ---- Status ------------------------------------------------------------------------------------

export interface ServiceStatus {
    service: ServiceState;
    idle: Color;
    /** Time left in the rollback window, in ms (0 once it has passed; undefined without a recorded promote). */
    rollbackWindowLeft?: number;
    allowed: StepName[];
    /** Why each other step may not run now. */
    blocked: { step: StepName; reason: string }[];
}

/** Per service: which steps may run now (deploy is asked for a version not yet on the service). */
export function serviceStatus(state: ReleaseState, s: ServiceState, now: Date, window: ChangeWindow): ServiceStatus {
    const idle = idleOf(s);
    const allowed: StepName[] = [];
    const blocked: ServiceStatus["blocked"] = [];
    for (const step of STEPS) {
        const version = step === "deploy" ? "<new version>" : undefined;
        const plan = planStep(state, { step, services: [s.name], now, window, version });
        if (plan.refusals.length) blocked.push({ step, reason: plan.refusals.map((r) => `${r.message} [${r.rule}]`).join("; ") });
        else if (plan.unchanged.length) blocked.push({ step, reason: `nothing to do: ${plan.unchanged[0].reason}` });
        else allowed.push(step);
    }
    const left = s.promotedAt ? Math.max(0, Date.parse(s.promotedAt) + state.rollbackWindow.ms - now.getTime()) : undefined;
    return { service: s, idle, ...(left !== undefined ? { rollbackWindowLeft: left } : {}), allowed, blocked };
}

/** Migrations whose release no service runs live yet. */
export function pendingMigrations(state: ReleaseState): string[] {
    const live = new Set(state.services.map((s) => s[s.live].version));
    return state.migrations.filter((m) => !live.has(m.release)).map((m) => m.release);
}

export function describeDuration(ms: number): string {
    const minutes = Math.ceil(ms / 60_000);
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

/** `15m`, `24h`, `2d`: a rollback window. */
export function parseDuration(text: string): number | undefined {
    const m = ROLLBACK_WINDOW_PATTERN.exec(text);
    if (!m) return undefined;
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "m" | "h" | "d"];
    return Number(m[1]) * unit;
}
