// Shared command-line plumbing for plan and audit: flags, exit codes, one-line error messages.
import * as path from "path";
import { PackStartError, PolicyPackError } from "../offline/analyzer";
import { PackSourceError } from "../offline/packBuild";
import { PolicyConfigError } from "../offline/policyConfig";
import { ExportFileError } from "../offline/stackExport";
import { renderText, Report } from "./report";

export const EXIT_OK = 0;
export const EXIT_MANDATORY_VIOLATIONS = 1;
export const EXIT_UNUSABLE_INPUT = 2;
/** The check itself could not run: the pack failed to start or a policy threw. */
export const EXIT_CHECK_FAILED = 3;

/** Bad arguments or input files: reported as one line, exit 2. */
export class InputError extends Error {}

export interface ParsedArgs {
    positional: string[];
    flags: Record<string, string | true>;
}

/** Parses `--name value`, `--name=value` and boolean `--name` flags; `booleans` lists the latter. */
export function parseArgs(argv: string[], known: { values: string[]; booleans: string[] }, usage: string): ParsedArgs {
    const positional: string[] = [];
    const flags: Record<string, string | true> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith("--")) {
            positional.push(arg);
            continue;
        }
        const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
        if (known.booleans.includes(name)) {
            flags[name] = true;
        } else if (known.values.includes(name)) {
            const value = inline ?? argv[++i];
            if (value === undefined || value.startsWith("--")) throw new InputError(`--${name} needs a value\n${usage}`);
            flags[name] = value;
        } else {
            throw new InputError(`unknown option --${name}\n${usage}`);
        }
    }
    return { positional, flags };
}

/** The project directory: the stack files, the policy pack and its configs. */
const PROJECT_DIR = path.resolve(__dirname, "..");
export const DEFAULT_PACK_DIR = path.join(PROJECT_DIR, "policies");

/** A stack's own file in the project directory: `Pulumi.<stack>.yaml`. */
export function stackFileOf(stack: string): string {
    return path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`);
}

/** A stack's policy config: `policies/config/<stack>.json`. */
export function policyConfigOf(stack: string): string {
    return path.join(DEFAULT_PACK_DIR, "config", `${stack}.json`);
}

/** A file as the tools show it: relative to the working directory. */
export function relative(file: string): string {
    return path.relative(process.cwd(), file) || file;
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
    const v = args.flags[name];
    return typeof v === "string" ? v : undefined;
}

/** How plan and audit print their report: text for a terminal, JSON, or GitHub Markdown. */
export type OutputFormat = "text" | "json" | "markdown";

export function outputFormat(args: ParsedArgs, usage: string): OutputFormat {
    if (args.flags.json && args.flags.markdown) throw new InputError(`--json and --markdown can't be combined\n${usage}`);
    return args.flags.json ? "json" : args.flags.markdown ? "markdown" : "text";
}

export function render(format: OutputFormat, report: Report, renderers: { json: () => string; markdown: () => string }): string {
    return format === "text" ? renderText(report) : renderers[format]();
}

export interface CommandResult {
    code: number;
    output: string;
}

export interface ToolRun extends CommandResult {
    /** The one-line error message, when the command failed. */
    error?: string;
}

/** Runs a command, turning its errors into a message and an exit code; never a stack trace for input problems. */
export async function execute(command: () => Promise<CommandResult>): Promise<ToolRun> {
    try {
        return await command();
    } catch (e) {
        const { code, message } = describeFailure(e);
        return { code, output: "", error: `error: ${message}\n` };
    }
}

/** The process entry point: prints what `execute` returns and exits with its code. */
export function runCli(command: () => Promise<CommandResult>): void {
    const onSignal = (signal: NodeJS.Signals) => process.exit(signal === "SIGINT" ? 130 : 143);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    void execute(command).then((run) => {
        process.stdout.write(run.output);
        if (run.error) process.stderr.write(run.error);
        exitAfterFlush(run.code);
    });
}

/** Exits once stdout has drained; the Pulumi runtime may leave handles that would keep the process alive. */
function exitAfterFlush(code: number): void {
    process.stdout.write("", () => process.exit(code));
}

export function describeFailure(e: unknown): { code: number; message: string } {
    if (e instanceof InputError || e instanceof ExportFileError || e instanceof PolicyConfigError || e instanceof PackSourceError) {
        return { code: EXIT_UNUSABLE_INPUT, message: e.message };
    }
    if (e instanceof PackStartError || e instanceof PolicyPackError) return { code: EXIT_CHECK_FAILED, message: e.message };
    const message = e instanceof Error ? (process.env.DEBUG ? (e.stack ?? e.message) : e.message) : String(e);
    return { code: EXIT_CHECK_FAILED, message };
}
