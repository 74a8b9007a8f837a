// npm run plan -- --stack <name> [--config <file>] [--against <export>] [--out <file>]
//                 [--json | --markdown] [--policy-config <file>] [--policy-pack <dir>] [--program <file>]
//
// Evaluates index.ts offline in preview mode (Pulumi's mocks: provider outputs stay unknown,
// undecryptable `secure:` values are placeholders), checks the result with the policy pack through
// Pulumi's analyzer protocol, and prints the plan; with --against, also the resources added, changed,
// replaced and removed compared with a stack export (another plan's --out, or a deployed stack's
// `pulumi stack export`), by the same diff the release command shows. Exit 0: no mandatory violation; 1: mandatory
// violations; 2: unusable input; 3: the check could not run.
import * as fs from "fs";
import * as path from "path";
import type { ProgramRun, RecordedResource } from "../offline/program";
import { readStackConfig, secretPlaceholder, StackConfigSource } from "../offline/stackConfig";
import { parseStackConfig, PROJECT, StackConfigError } from "../config";
import { changeWindowOf } from "../release/changeWindow";
import { releaseStepNotes } from "../release/state";
import {
    CommandResult,
    DEFAULT_PACK_DIR,
    EXIT_MANDATORY_VIOLATIONS,
    EXIT_OK,
    InputError,
    OutputFormat,
    outputFormat,
    parseArgs,
    policyConfigOf,
    relative,
    render,
    runCli,
    stackFileOf,
    stringFlag,
} from "./cli";
import { renderMarkdown } from "./markdown";
import { checkWhilePreparing } from "../offline/policyCheck";
import { diffResources, diffResourcesOfExport, diffResourcesOfRun, renderDiff } from "../offline/planDiff";
import { countByLevel, liveColors, renderJson, Report, ShownResource } from "./report";
import { ExportResource, RunAnalysis, readStackExport, StackExport, stackExportText, toStackExport, writeStackExport } from "../offline/stackExport";
import { STACK_TYPE, urnName } from "../offline/wire";

const USAGE =
    "usage: npm run plan -- --stack <name> [--config <file>] [--against <export>] [--out <file>] [--json | --markdown] [--policy-config <file>] [--policy-pack <dir>] [--program <file>]";
const ROOT = path.resolve(__dirname, "..");

export interface PlanOptions {
    stack: string;
    configFile?: string;
    /** A stack export to compare the plan with. */
    againstFile?: string;
    outFile?: string;
    format: OutputFormat;
    policyConfigFile: string;
    packDir: string;
    /** Another program module than index.ts (test fixtures). */
    program?: string;
}

export function parsePlanArgs(argv: string[]): PlanOptions {
    const args = parseArgs(
        argv,
        { values: ["stack", "config", "against", "out", "policy-config", "policy-pack", "program"], booleans: ["json", "markdown"] },
        USAGE,
    );
    if (args.positional.length) throw new InputError(`unexpected argument ${args.positional[0]}\n${USAGE}`);
    const stack = stringFlag(args, "stack");
    if (!stack) throw new InputError(`--stack is required\n${USAGE}`);
    return {
        stack,
        configFile: stringFlag(args, "config"),
        againstFile: stringFlag(args, "against"),
        outFile: stringFlag(args, "out"),
        format: outputFormat(args, USAGE),
        policyConfigFile: stringFlag(args, "policy-config") ?? policyConfigOf(stack),
        packDir: stringFlag(args, "policy-pack") ?? DEFAULT_PACK_DIR,
        program: stringFlag(args, "program") && path.resolve(stringFlag(args, "program")!),
    };
}

export async function plan(opts: PlanOptions): Promise<CommandResult> {
    const configFile = stackConfigFile(opts.stack, opts.configFile);
    // Read before anything runs, so a missing or malformed export fails fast.
    const base = opts.againstFile ? readStackExport(opts.againstFile) : undefined;
    if (!fs.existsSync(opts.policyConfigFile)) {
        throw new InputError(`no policy config for stack "${opts.stack}": ${relative(opts.policyConfigFile)} does not exist (pass --policy-config)`);
    }
    // As in a preview, each resource is analyzed as soon as the program has registered it.
    const analysis = new RunAnalysis();
    let exportReady: Promise<{ exported: StackExport; text?: string }> | undefined;
    const { prepared, check } = await checkWhilePreparing(
        opts.packDir,
        { policyConfigFile: opts.policyConfigFile, stack: opts.stack, project: PROJECT, dryRun: true },
        async (analyze) => {
            const evaluated = await evaluate(opts.stack, configFile, opts.program, (recorded) => {
                const analyzed = analysis.add(recorded);
                if (analyzed) analyze(analyzed);
            });
            exportReady = whileTheCheckFinishes(() => {
                const exported = toStackExport(evaluated.run);
                return { exported, text: opts.outFile ? stackExportText(exported) : undefined };
            });
            return evaluated;
        },
        ({ run }) => analysis.complete(run.outputs),
    );
    const { run, source } = prepared;
    // Written only once the check has run: a plan whose check failed leaves no export behind.
    const { exported, text } = await exportReady!;
    if (opts.outFile) writeStackExport(opts.outFile, exported, text);

    // Outputs compared in the export's form on both sides (values unknown in a preview left out).
    const diff =
        base && diffResources(diffResourcesOfExport(base), diffResourcesOfRun(run), { before: exportStackOutputs(base), after: exportStackOutputs(exported) });
    const report: Report = {
        title: `Plan ${opts.stack}: ${relative(source.file)}, preview (nothing deployed; provider outputs are known after apply)`,
        resources: run.resources.map(shownResource),
        stackOutputs: run.outputs,
        notes: planNotes(source, opts),
        check,
        policyConfigFile: relative(opts.policyConfigFile),
        ...(diff ? { changes: { against: opts.againstFile!, lines: renderDiff(diff) } } : {}),
    };
    const comparison = diff && { against: opts.againstFile!, diff, liveColorsBefore: liveColors(base.deployment.resources.map(shownExportResource)) };
    const output = render(opts.format, report, {
        json: () =>
            renderJson(report, exported.deployment.resources, { stack: opts.stack, preview: true, ...(diff ? { against: opts.againstFile, diff } : {}) }),
        markdown: () => renderMarkdown(report, { kind: "Plan", stack: opts.stack, source: relative(source.file), comparison }),
    });
    return { code: countByLevel(check.violations).mandatory ? EXIT_MANDATORY_VIOLATIONS : EXIT_OK, output };
}

/**
 * Runs `build` once the check's last requests have gone out, while this thread would only wait for
 * the packs' answers (for a large stack, a second or more): building and serializing the export
 * of 1,800 resources takes a quarter of a second.
 */
function whileTheCheckFinishes<T>(build: () => T): Promise<T> {
    const built = new Promise<T>((resolve, reject) =>
        setImmediate(() => {
            try {
                resolve(build());
            } catch (e) {
                reject(e);
            }
        }),
    );
    // Awaited after the check; if the check fails first, a failure here must not be an unhandled rejection.
    built.catch(() => undefined);
    return built;
}

function stackConfigFile(stack: string, configFile?: string): string {
    const file = configFile ? path.resolve(configFile) : stackFileOf(stack);
    if (!configFile && !fs.existsSync(file)) {
        throw new InputError(`unknown stack "${stack}": there is no ${relative(file)} (stacks: ${knownStacks().join(", ") || "none"})`);
    }
    if (!fs.existsSync(file)) throw new InputError(`stack config ${configFile} does not exist`);
    return file;
}

function knownStacks(): string[] {
    return fs
        .readdirSync(ROOT)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => !!s);
}

/** Loads the offline runner (and with it the Pulumi SDK) only now, so the policy pack starts meanwhile. */
async function evaluate(
    stack: string,
    configFile: string,
    program: string | undefined,
    onRecord: (recorded: RecordedResource) => void,
): Promise<{ run: ProgramRun; source: StackConfigSource }> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runner: typeof import("../offline/program") = require("../offline/program");
    let source: StackConfigSource;
    try {
        source = readStackConfig(stack, configFile);
    } catch (e) {
        throw new InputError((e as Error).message);
    }
    try {
        return { run: await runner.runProgram({ stack, source, preview: true, onRecord, ...(program ? { program } : {}) }), source };
    } catch (e) {
        const cause = e instanceof runner.ProgramError ? e.cause : e;
        // The program names Pulumi.<stack>.yaml; say which file the values really came from.
        if (cause instanceof StackConfigError) throw new InputError(new StackConfigError(cause.problems, relative(source.file)).message);
        throw new Error(`the program failed for stack "${stack}": ${cause instanceof Error ? cause.message : String(cause)}`);
    }
}

function shownResource(r: ProgramRun["resources"][number]): ShownResource {
    return { urn: r.urn, type: r.type, name: r.name, custom: r.custom, parent: r.parent, properties: r.type === STACK_TYPE ? {} : r.inputs };
}

/** A resource of the compared export as the report shows it: its inputs (what the diff compares). */
function shownExportResource(r: ExportResource): ShownResource {
    return { urn: r.urn, type: r.type, name: urnName(r.urn), custom: r.custom, parent: r.parent, properties: r.inputs ?? {} };
}

function exportStackOutputs(data: StackExport): Record<string, unknown> {
    return data.deployment.resources.find((r) => r.type === STACK_TYPE)?.outputs ?? {};
}

function planNotes(source: StackConfigSource, opts: PlanOptions): string[] {
    // The placeholder as a code span: a URL-shaped one must not become a link in the Markdown report.
    const notes = source.placeholders.map(
        (key) => `${key} is a secure value that can't be decrypted offline: the program saw a placeholder (\`${secretPlaceholder(key)}\`).`,
    );
    if (opts.outFile) notes.push(`Wrote the evaluated stack (pulumi stack export format, secrets redacted) to ${opts.outFile}.`);
    // The program accepted this config, so it parses.
    const config = parseStackConfig(source.config, opts.stack, relative(source.file), source.secretKeys);
    notes.push(...releaseStepNotes(config, changeWindowOf(opts.policyConfigFile), new Date()));
    return notes;
}

if (require.main === module) {
    runCli(() => plan(parsePlanArgs(process.argv.slice(2))));
}
