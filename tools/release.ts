// npm run release -- <status|deploy|promote|rollback|finish|watch> --stack <name> [--service <name> | --all]
//                    [--config <file>] [--version <v>] [--migration-image <ref>] [--to <version>]
//                    [--color <blue|green>] [--hotfix] [--write | --apply]
//
// Each step is a checked transition of the stack's release state (the stack file): the rules
// decide whether it may run, the file is edited in place (comments and formatting kept), and the
// result is shown: the config changes, the offline plan's resource diff against the plan before the
// edit, and the policy verdicts of the new config. Default: show only. --write writes the file;
// --apply writes it and runs the update through Pulumi's Automation API.
// Exit 0: done (or nothing to do); 1: refused by a rule or a policy; 2: unusable input; 3: the step
// could not run.
//
// Longer than the other tools (about 570 lines) because it is the one place that orders a step:
// arguments, rules, edit, plan before and after, policy check, apply and the step's report read
// top to bottom here; the rules, file edits, diff and Automation API live in release/ and offline/.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ProgramRun } from "../offline/program";
import { readStackConfig, StackConfigSource } from "../offline/stackConfig";
import { Color, COLORS, parseStackConfig, PROJECT, StackConfig, StackConfigError } from "../config";
import { allChanges, diffResources, diffResourcesOfRun, PlanDiff, renderDiff } from "../offline/planDiff";
import { AllowedChanges, anyChanges, checkDiff, switchChanges } from "../release/allowedChanges";
import { ApplyAborted, applyStep, PulumiCliMissing, requirePulumiCli } from "../release/apply";
import { ChangeWindow, changeWindowOf, describeWindow, isoInZone, isOpen, nextOpening } from "../release/changeWindow";
import { ConfigEdit, describeDuration, pendingMigrations, planStep, PROJECT_PREFIX, ReleaseState, serviceStatus, StepName, StepPlan } from "../release/rules";
import { releaseStateOf } from "../release/state";
import { applyEdits, readStackFile, StackFile, StackFileError } from "../release/stackFile";
import {
    CommandResult,
    DEFAULT_PACK_DIR,
    EXIT_CHECK_FAILED,
    EXIT_MANDATORY_VIOLATIONS,
    EXIT_OK,
    EXIT_UNUSABLE_INPUT,
    InputError,
    parseArgs,
    policyConfigOf,
    relative,
    runCli,
    stackFileOf,
    stringFlag,
} from "./cli";
import { checkWith, CheckResult } from "../offline/policyCheck";
import { countByLevel, section } from "./report";
import { analysisForRun } from "../offline/stackExport";
import { ANALYSIS_FLAGS, AnalysisVerdict, promoteAnalysis, watchRelease } from "./analysis/releaseAnalysis";

const ROOT = path.resolve(__dirname, "..");
const USAGE =
    "usage: npm run release -- <status|deploy|promote|rollback|finish|watch> --stack <name> [--service <name> | --all] [--config <file>]\n" +
    "         [--version <v>] [--migration-image <ref>] [--to <version>] [--color <blue|green>] [--hotfix] [--write | --apply]";

export const EXIT_REFUSED = EXIT_MANDATORY_VIOLATIONS;

/** The flags every command accepts; a new command's own flags are added here. */
export const FLAGS = {
    values: ["stack", "service", "config", "version", "migration-image", "to", "color", "policy-config", "policy-pack", "program", ...ANALYSIS_FLAGS.values],
    booleans: ["all", "hotfix", "write", "apply", ...ANALYSIS_FLAGS.booleans],
};

export interface ReleaseOptions {
    command: string;
    stack: string;
    /** `--service` names, or every service with `--all`; undefined when neither was given. */
    services?: string[] | "all";
    configFile: string;
    policyConfigFile: string;
    packDir: string;
    version?: string;
    migrationImage?: string;
    to?: string;
    color?: Color;
    hotfix: boolean;
    write: boolean;
    apply: boolean;
    /** The clock; tests fix it. */
    now: () => Date;
    /** Progress messages while something waits (stderr in the CLI). */
    progress: (message: string) => void;
    /** Another program module than index.ts (test fixtures). */
    program?: string;
    /** Every flag as given, for commands with flags of their own. */
    flags: Record<string, string | true>;
}

export function parseReleaseArgs(argv: string[], overrides: Partial<ReleaseOptions> = {}): ReleaseOptions {
    const args = parseArgs(argv, FLAGS, USAGE);
    const [command, ...rest] = args.positional;
    if (!command) throw new InputError(`which command?\n${USAGE}`);
    if (!COMMANDS[command]) throw new InputError(`unknown command ${command} (commands: ${Object.keys(COMMANDS).join(", ")})\n${USAGE}`);
    if (rest.length) throw new InputError(`unexpected argument ${rest[0]}\n${USAGE}`);
    const stack = stringFlag(args, "stack");
    if (!stack) throw new InputError(`--stack is required\n${USAGE}`);
    const service = stringFlag(args, "service");
    if (service && args.flags.all) throw new InputError(`--service and --all exclude each other\n${USAGE}`);
    const color = stringFlag(args, "color");
    if (color !== undefined && !(COLORS as readonly string[]).includes(color))
        throw new InputError(`--color must be one of ${COLORS.join(", ")}, got ${color}`);
    if (args.flags.write && args.flags.apply) throw new InputError(`--apply writes the file too; give one of --write and --apply`);
    const configFile = stringFlag(args, "config");
    return {
        command,
        stack,
        services: args.flags.all ? "all" : service ? [service] : undefined,
        configFile: configFile ? path.resolve(configFile) : stackFileOf(stack),
        policyConfigFile: path.resolve(stringFlag(args, "policy-config") ?? policyConfigOf(stack)),
        packDir: path.resolve(stringFlag(args, "policy-pack") ?? DEFAULT_PACK_DIR),
        version: stringFlag(args, "version"),
        migrationImage: stringFlag(args, "migration-image"),
        to: stringFlag(args, "to"),
        ...(color ? { color: color as Color } : {}),
        hotfix: args.flags.hotfix === true,
        write: args.flags.write === true,
        apply: args.flags.apply === true,
        now: () => new Date(),
        progress: (m) => process.stderr.write(`${m}\n`),
        ...(stringFlag(args, "program") ? { program: path.resolve(stringFlag(args, "program")!) } : {}),
        flags: args.flags,
        ...overrides,
    };
}

// ---- Context ------------------------------------------------------------------------------------

/** What every command starts from: the stack file, its validated config and release state, the window, the time. */
export interface ReleaseContext {
    opts: ReleaseOptions;
    file: StackFile;
    /** The stack file's config as the CLI hands it to the program (the plan before the edit runs on it). */
    source: StackConfigSource;
    config: StackConfig;
    state: ReleaseState;
    window: ChangeWindow;
    now: Date;
}

export function loadContext(opts: ReleaseOptions): ReleaseContext {
    if (!fs.existsSync(opts.configFile)) {
        throw new InputError(
            `no stack config for stack "${opts.stack}": ${relative(opts.configFile)} does not exist${opts.configFile.startsWith(ROOT) ? "" : " (--config)"}`,
        );
    }
    if (!fs.existsSync(opts.policyConfigFile))
        throw new InputError(`no policy config for stack "${opts.stack}": ${relative(opts.policyConfigFile)} does not exist (pass --policy-config)`);
    const file = wrapInput(() => readStackFile(opts.configFile));
    const source = wrapInput(() => readStackConfig(opts.stack, opts.configFile));
    const config = parseConfig(source, opts.stack, opts.configFile);
    return { opts, file, source, config, state: releaseStateOf(config), window: changeWindowOf(opts.policyConfigFile), now: opts.now() };
}

function parseConfig(source: StackConfigSource, stack: string, file: string): StackConfig {
    try {
        return parseStackConfig(source.config, stack, relative(file), source.secretKeys);
    } catch (e) {
        if (e instanceof StackConfigError) throw new InputError(e.message);
        throw e;
    }
}

function wrapInput<T>(read: () => T): T {
    try {
        return read();
    } catch (e) {
        throw new InputError((e as Error).message);
    }
}

/** The offline runner (and with it the Pulumi SDK) is loaded when first needed. */
function runner(): typeof import("../offline/program") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("../offline/program");
}

function selectedServices(ctx: ReleaseContext): string[] {
    const chosen = ctx.opts.services;
    if (chosen === undefined)
        throw new InputError(`${ctx.opts.command} needs --service <name> or --all (services: ${ctx.state.services.map((s) => s.name).join(", ")})`);
    const known = ctx.state.services.map((s) => s.name);
    const unknown = chosen === "all" ? [] : chosen.filter((n) => !known.includes(n));
    if (unknown.length) throw new InputError(`no such service in stack ${ctx.opts.stack}: ${unknown.join(", ")} (services: ${known.join(", ")})`);
    return chosen === "all" ? known : chosen;
}

// ---- Commands -----------------------------------------------------------------------------------

export interface ReleaseCommand {
    /** One line for the usage text. */
    summary: string;
    run(ctx: ReleaseContext): Promise<CommandResult>;
}

/** Metric analysis around a promote's switch. */
export interface PromoteAnalysis {
    /** Before anything is written: a failing verdict refuses the promote (exit 1). */
    beforeSwitch?(ctx: ReleaseContext, step: StepOutcome): Promise<AnalysisVerdict>;
    /** After `--apply` switched traffic: a failing verdict rolls the switched services back. */
    afterSwitch?(ctx: ReleaseContext, step: StepOutcome): Promise<AnalysisVerdict>;
}

export interface StepHooks {
    analysis?: PromoteAnalysis;
}

/** A checked step: its decision, the edited text, and (once planned) the diff and the verdicts. */
export interface StepOutcome {
    step: StepName;
    plan: StepPlan;
    before: string;
    after: string;
    diff?: PlanDiff;
    check?: CheckResult;
    allowed?: AllowedChanges;
}

/** The command table: `watch` and other commands are added here. */
export const COMMANDS: Record<string, ReleaseCommand> = {
    status: { summary: "per service: live color, versions, replicas, rollback window, allowed steps; the change window", run: async (ctx) => status(ctx) },
    deploy: { summary: "put --version on the idle color with the live replicas (--migration-image adds its migration)", run: (ctx) => runStep(ctx, "deploy") },
    promote: {
        summary: "make the idle color live, once it runs the release with the live replica minimum (--prometheus: with the analysis before and after)",
        run: (ctx) => runStep(ctx, "promote", ctx.opts.flags.prometheus === undefined ? {} : { analysis: analysisAround(ctx) }),
    },
    watch: { summary: "measure the live colors over the monitoring window (--prometheus <url>); roll back a failing service", run: (ctx) => watchLive(ctx) },
    rollback: { summary: "make the previous color live again; --to <version> deploys a version and switches to it", run: (ctx) => runStep(ctx, "rollback") },
    finish: { summary: "scale the previous color to 0 once the rollback window has passed", run: (ctx) => runStep(ctx, "finish") },
};

export async function release(opts: ReleaseOptions): Promise<CommandResult> {
    if (opts.apply) requireApplicable(opts.stack, opts.configFile);
    return COMMANDS[opts.command].run(loadContext(opts));
}

/** What --apply needs, checked before anything is read, planned or written: the Pulumi CLI, and the stack's own file. */
export function requireApplicable(stack: string, configFile: string): void {
    requireCli();
    if (configFile !== stackFileOf(stack)) {
        throw new InputError(`--apply updates stack ${stack} from Pulumi.${stack}.yaml in the project directory; --config is for showing or writing a step`);
    }
}

function requireCli(): void {
    try {
        requirePulumiCli();
    } catch (e) {
        if (e instanceof PulumiCliMissing) throw new InputError(e.message);
        throw e;
    }
}

// ---- Steps --------------------------------------------------------------------------------------

/** Decides, edits, plans, checks and (with --write/--apply) writes one step. */
export async function runStep(ctx: ReleaseContext, step: StepName, hooks: StepHooks = {}): Promise<CommandResult> {
    const { opts } = ctx;
    const plan = planStep(ctx.state, {
        step,
        services: selectedServices(ctx),
        now: ctx.now,
        window: ctx.window,
        version: step === "deploy" ? opts.version : step === "rollback" ? opts.to : undefined,
        ...(opts.color ? { color: opts.color } : {}),
        ...(opts.migrationImage ? { migrationImage: opts.migrationImage } : {}),
        hotfix: opts.hotfix,
    });
    const title = `Release ${opts.stack}: ${step} ${describeServices(ctx, plan)} (${relative(opts.configFile)}, ${isoInZone(ctx.now, ctx.window.timeZone)})`;
    if (plan.refusals.length)
        return refused(
            title,
            plan.refusals.map((r) => `${r.message} [${r.rule}]`),
        );
    if (!plan.edits.length) return { code: EXIT_OK, output: [title, ...unchangedLines(plan), "Nothing to change; nothing written."].join("\n") + "\n" };

    const outcome: StepOutcome = { step, plan, before: ctx.file.text, after: wrapInput(() => applyEdits(ctx.file, plan.edits)) };
    const edited = editedConfig(ctx, outcome.after);
    if (hooks.analysis?.beforeSwitch) {
        const verdict = await hooks.analysis.beforeSwitch(ctx, outcome);
        if (!verdict.passed) return refused(title, [`analysis before the switch: ${verdict.summary} [analysis]`]);
    }
    await planAndCheck(ctx, outcome, edited);
    const sections = [title, section("Config changes", configChangeLines(ctx.file, plan.edits)), ...unchangedSection(plan), planSections(ctx, outcome)];

    const stepProblems = checkDiff(outcome.diff!, outcome.allowed!);
    if (stepProblems.length)
        return refusedWith(
            sections,
            stepProblems.map((p) => `${p} [step-changes]`),
        );
    const { mandatory } = countByLevel(outcome.check!.violations);
    if (mandatory) return refusedWith(sections, [`the new config fails ${mandatory} mandatory polic${mandatory === 1 ? "y" : "ies"} [policy]`]);

    if (!opts.write && !opts.apply) {
        return done(sections, `Shown only; nothing written. --write writes ${relative(opts.configFile)}, --apply writes it and runs the update.`);
    }
    fs.writeFileSync(opts.configFile, outcome.after);
    if (!opts.write) return applyOutcome(ctx, outcome, sections, hooks);
    return done(sections, `Wrote ${relative(opts.configFile)}.`);
}

function describeServices(ctx: ReleaseContext, plan: StepPlan): string {
    const chosen = ctx.opts.services === "all" ? "all services" : (ctx.opts.services ?? []).join(", ");
    return plan.step === "deploy" || (plan.step === "rollback" && ctx.opts.to) ? `${ctx.opts.version ?? ctx.opts.to ?? ""} to ${chosen}` : chosen;
}

function editedConfig(ctx: ReleaseContext, text: string): { file: string; source: StackConfigSource } {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "release-"));
    const file = path.join(tmp, path.basename(ctx.opts.configFile));
    try {
        fs.writeFileSync(file, text);
        const source = { ...wrapInput(() => readStackConfig(ctx.opts.stack, file)), file: ctx.opts.configFile };
        // The edited file must be as valid as the original (e.g. a version the program accepts).
        parseConfig(source, ctx.opts.stack, ctx.opts.configFile);
        return { file: ctx.opts.configFile, source };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

// ---- Offline plan: before and after in one process ----------------------------------------------

/** Evaluated programs by config text: a step's "after" is the next step's "before". */
const evaluated = new Map<string, ProgramRun>();

async function evaluateOnce(ctx: ReleaseContext, source: StackConfigSource, label: string): Promise<ProgramRun> {
    const key = crypto
        .createHash("sha256")
        .update(`${ctx.opts.stack}\0${ctx.opts.program ?? ""}\0${JSON.stringify(source.config)}\0${source.secretKeys.join(",")}`)
        .digest("hex");
    const cached = evaluated.get(key);
    if (cached) return cached;
    ctx.opts.progress(`evaluating the program offline (${label})…`);
    const h = runner();
    try {
        const run = await h.runProgram({ stack: ctx.opts.stack, source, preview: true, ...(ctx.opts.program ? { program: ctx.opts.program } : {}) });
        evaluated.set(key, run);
        return run;
    } catch (e) {
        const cause = e instanceof h.ProgramError ? e.cause : e;
        throw new Error(`the program failed for stack "${ctx.opts.stack}" (${label}): ${cause instanceof Error ? cause.message : String(cause)}`);
    }
}

async function planAndCheck(ctx: ReleaseContext, outcome: StepOutcome, edited: { source: StackConfigSource }): Promise<void> {
    const { prepared, check } = await checkWith(
        ctx.opts.packDir,
        ctx.opts.policyConfigFile,
        async () => ({ before: await evaluateOnce(ctx, ctx.source, "before the edit"), after: await evaluateOnce(ctx, edited.source, "after the edit") }),
        ({ after }) => ({ stack: ctx.opts.stack, project: PROJECT, dryRun: true, input: analysisForRun(after) }),
    );
    outcome.diff = diffResources(diffResourcesOfRun(prepared.before), diffResourcesOfRun(prepared.after), {
        before: prepared.before.outputs,
        after: prepared.after.outputs,
    });
    outcome.check = check;
    outcome.allowed = allowedFor(outcome, prepared.before);
}

/** A switch changes only its Services' selectors; a rollback that deploys is limited to what its plan changes. */
function allowedFor(outcome: StepOutcome, before: ProgramRun): AllowedChanges {
    const { plan } = outcome;
    if (plan.switched.length && !plan.deployed.length) return switchChanges(before.resources, plan.switched);
    if (plan.step === "rollback") return { ...anyChanges(), targets: allChanges(outcome.diff!).map((r) => r.urn) };
    return anyChanges();
}

// ---- --apply ------------------------------------------------------------------------------------

async function applyOutcome(ctx: ReleaseContext, outcome: StepOutcome, sections: string[], hooks: StepHooks): Promise<CommandResult> {
    const { opts } = ctx;
    const output: string[] = [];
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once("SIGINT", stop);
    try {
        const result = await applyStep({
            stack: opts.stack,
            workDir: ROOT,
            policyPackDir: opts.packDir,
            policyConfigFile: opts.policyConfigFile,
            allowed: outcome.allowed!,
            onOutput: (text) => {
                output.push(text);
                process.stdout.write(text);
            },
            signal: controller.signal,
        });
        sections.push(section("Update", [`  ${JSON.stringify(result.changes)}`]));
    } catch (e) {
        // The step did not happen: the file goes back to what it said before.
        fs.writeFileSync(opts.configFile, outcome.before);
        const reason = e instanceof ApplyAborted ? e.message : `the update failed: ${(e as Error).message}`;
        return {
            code: e instanceof ApplyAborted ? EXIT_REFUSED : EXIT_CHECK_FAILED,
            output: [...sections, `${reason}\n${relative(opts.configFile)} restored; nothing else was written.`].join("\n\n") + "\n",
        };
    } finally {
        process.off("SIGINT", stop);
    }
    if (hooks.analysis?.afterSwitch) {
        const verdict = await hooks.analysis.afterSwitch(ctx, outcome);
        if (!verdict.passed && !verdict.rollBack) {
            return {
                code: EXIT_CHECK_FAILED,
                output:
                    [...sections, `analysis after the switch did not pass and did not fail (traffic stays switched): ${verdict.summary}`].join("\n\n") + "\n",
            };
        }
        if (!verdict.passed) {
            const rollbackCtx = loadContext({ ...opts, services: outcome.plan.switched, to: undefined });
            const rolledBack = await runStep(rollbackCtx, "rollback");
            return {
                code: EXIT_REFUSED,
                output: [...sections, `analysis after the switch failed: ${verdict.summary}; rolled back:`, rolledBack.output].join("\n\n"),
            };
        }
    }
    return done(sections, `Wrote ${relative(opts.configFile)} and updated stack ${opts.stack}.`);
}

/** The release's rollback step for these services, one service at a time (each --apply rewrites the file). */
export async function rollbackEach(ctx: ReleaseContext, services: string[]): Promise<CommandResult> {
    const results: CommandResult[] = [];
    for (const service of services) {
        results.push(await runStep(loadContext({ ...ctx.opts, command: "rollback", services: [service], to: undefined }), "rollback"));
    }
    return { code: Math.max(0, ...results.map((r) => r.code)), output: results.map((r) => r.output).join("\n") };
}

function analysisRequest(ctx: ReleaseContext) {
    return {
        config: ctx.config,
        flags: ctx.opts.flags,
        now: ctx.now,
        progress: ctx.opts.progress,
        rollback: (services: string[]) => rollbackEach(ctx, services),
    };
}

/** Promote's analysis: the idle color's own pods before the switch, the new live color after it. */
function analysisAround(ctx: ReleaseContext): PromoteAnalysis {
    const hooks = promoteAnalysis(analysisRequest(ctx));
    return { beforeSwitch: () => hooks.beforeSwitch(selectedServices(ctx)), afterSwitch: () => hooks.afterSwitch(selectedServices(ctx)) };
}

function watchLive(ctx: ReleaseContext): Promise<CommandResult> {
    return watchRelease({ ...analysisRequest(ctx), services: selectedServices(ctx) });
}

// ---- Rendering ----------------------------------------------------------------------------------

function refused(title: string, reasons: string[]): CommandResult {
    return refusedWith([title], reasons);
}

function refusedWith(sections: string[], reasons: string[]): CommandResult {
    return {
        code: EXIT_REFUSED,
        output:
            [
                ...sections,
                section(
                    "Refused; nothing written",
                    reasons.map((r) => `  ${r}`),
                ),
            ].join("\n\n") + "\n",
    };
}

function done(sections: string[], last: string): CommandResult {
    return { code: EXIT_OK, output: [...sections, last].join("\n\n") + "\n" };
}

function unchangedLines(plan: StepPlan): string[] {
    return plan.unchanged.map((u) => `  ${u.service}: ${u.reason}`);
}

function unchangedSection(plan: StepPlan): string[] {
    return plan.unchanged.length ? [section("Unchanged", unchangedLines(plan))] : [];
}

/** `services.auth-service.live: blue → green`, read from the file before the edit. */
function configChangeLines(file: StackFile, edits: ConfigEdit[]): string[] {
    return edits.map((edit) => {
        const shown = edit.path.map((p) => (typeof p === "string" ? p.replace(PROJECT_PREFIX, "") : `[${p}]`)).join(".");
        if ("append" in edit) return `  ${shown}: + ${JSON.stringify(edit.append)}`;
        const before = edit.path.reduce<unknown>(
            (v, k) => (v && typeof v === "object" ? (v as Record<string | number, unknown>)[k] : undefined),
            file.data.config,
        );
        return `  ${shown}: ${before === undefined ? "(not set)" : JSON.stringify(before)} → ${JSON.stringify(edit.value)}`;
    });
}

function planSections(ctx: ReleaseContext, outcome: StepOutcome): string {
    const check = outcome.check!;
    const verdicts = check.violations.map(
        (v) => `  ${v.enforcementLevel.padEnd(9)} ${v.policyName}: ${v.message.split("\n")[0]}  (${v.urn.split("::").pop()})`,
    );
    const { mandatory, advisory } = countByLevel(check.violations);
    return [
        section("Resource changes (offline plan after the edit against the plan before it)", renderDiff(outcome.diff!)),
        section(
            `Policy verdicts of the new config (pack ${check.pack.name}@${check.pack.version}, config ${relative(ctx.opts.policyConfigFile)}): ${mandatory} mandatory, ${advisory} advisory`,
            verdicts,
        ),
    ].join("\n\n");
}

// ---- status -------------------------------------------------------------------------------------

function status(ctx: ReleaseContext): CommandResult {
    const { state, window, now } = ctx;
    const names = ctx.opts.services === undefined ? state.services.map((s) => s.name) : selectedServices(ctx);
    const lines = [
        `Release ${ctx.opts.stack}: release ${state.release.version}${state.release.hotfix ? " (hotfix)" : ""}, ${relative(ctx.opts.configFile)}, ${isoInZone(now, window.timeZone)}`,
    ];
    for (const name of names)
        lines.push(
            "",
            ...serviceLines(
                state,
                serviceStatus(
                    state,
                    state.services.find((s) => s.name === name)!,
                    now,
                    window,
                ),
            ),
        );
    lines.push("", section("Change window", windowLines(window, now)));
    const pending = pendingMigrations(state);
    lines.push(
        "",
        section(
            "Pending migrations (listed, not yet live on any service)",
            pending.map((r) => `  ${r}`),
        ),
    );
    return { code: EXIT_OK, output: lines.join("\n") + "\n" };
}

function serviceLines(state: ReleaseState, st: ReturnType<typeof serviceStatus>): string[] {
    const s = st.service;
    const color = (c: Color) => `${c}: ${s[c].version} × ${s[c].replicas}${c === s.live ? " (live)" : ""}`;
    const window =
        st.rollbackWindowLeft === undefined
            ? "no promote recorded"
            : st.rollbackWindowLeft > 0
              ? `${describeDuration(st.rollbackWindowLeft)} of ${state.rollbackWindow.text} left`
              : `passed (${state.rollbackWindow.text})`;
    return [
        `${s.name}: live ${s.live}`,
        `  ${color("blue")}; ${color("green")}`,
        `  last promote: ${s.promotedAt ?? "(not recorded)"}; rollback window: ${window}`,
        `  allowed now: ${st.allowed.join(", ") || "(none)"}`,
        ...st.blocked.map((b) => `  not ${b.step}: ${b.reason}`),
    ];
}

function windowLines(window: ChangeWindow, now: Date): string[] {
    const open = isOpen(window, now);
    return [
        `  ${describeWindow(window)}${window.enforced ? " (enforced: deploy and promote run only inside it unless --hotfix)" : " (not enforced in this stack)"}`,
        `  open now: ${open ? "yes" : "no"}; next opening: ${isoInZone(nextOpening(window, now), window.timeZone)}`,
    ];
}

export { EXIT_UNUSABLE_INPUT, StackFileError };

if (require.main === module) {
    runCli(() => release(parseReleaseArgs(process.argv.slice(2))));
}
