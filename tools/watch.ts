// npm run watch -- --stack <name> [--service <name> | --all] --prometheus <url> [--since <time>] [--json] [--apply]
//
// The release analysis of each chosen service's live color over the monitoring window (from its
// promote, `--since`, or now), with a line per interval and a table at the end. A failed service
// is rolled back through `npm run release -- rollback` (shown; with --apply, run: that needs the
// Pulumi CLI and the stack's own file, checked before the watch starts).
// Exit 0 passed, 1 failed, 2 unusable input, 3 error (Prometheus unreachable, or the rollback did
// not go through), 4 inconclusive (no data), 130 stopped.
import * as path from "path";
import { parseStackConfig, StackConfigError } from "../config";
import { readStackConfig } from "../offline/stackConfig";
import { ANALYSIS_FLAGS, watchRelease } from "./analysis/releaseAnalysis";
import { InputError, parseArgs, relative, runCli, stackFileOf, stringFlag } from "./cli";
import { loadContext, parseReleaseArgs, requireApplicable, rollbackEach } from "./release";

const USAGE = "usage: npm run watch -- --stack <name> [--service <name> | --all] --prometheus <url> [--config <file>] [--since <time>] [--json] [--apply]";

async function main(): Promise<{ code: number; output: string }> {
    const args = parseArgs(
        process.argv.slice(2),
        { values: ["stack", "service", "config", ...ANALYSIS_FLAGS.values], booleans: ["all", "apply", ...ANALYSIS_FLAGS.booleans] },
        USAGE,
    );
    const stack = stringFlag(args, "stack");
    if (!stack) throw new InputError(`--stack is required\n${USAGE}`);
    const file = path.resolve(stringFlag(args, "config") ?? stackFileOf(stack));
    let config;
    try {
        const source = readStackConfig(stack, file);
        config = parseStackConfig(source.config, stack, relative(file), source.secretKeys);
    } catch (e) {
        throw new InputError(e instanceof StackConfigError ? e.message : `cannot read ${file}: ${(e as Error).message}`);
    }
    const known = config.services.map((s) => s.name);
    const service = stringFlag(args, "service");
    if (!service === !args.flags.all) throw new InputError(`give --service <name> or --all (services: ${known.join(", ")})\n${USAGE}`);
    if (service && !known.includes(service)) throw new InputError(`unknown service ${service} (services: ${known.join(", ")})`);
    const apply = args.flags.apply === true;
    // A rollback that could not run must not be found out only at the end of the window.
    if (apply) requireApplicable(stack, file);
    const progress = (line: string) => process.stderr.write(`${line}\n`);
    return watchRelease({
        config,
        services: service ? [service] : known,
        flags: args.flags,
        now: new Date(),
        progress,
        rollback: async (services) => {
            if (!apply) {
                return {
                    code: 0,
                    output: `would run: npm run release -- rollback --stack ${stack} ${services.map((s) => `--service ${s}`).join(" ")} --apply\n`,
                };
            }
            return rollbackEach(loadContext(parseReleaseArgs(["rollback", "--stack", stack, "--apply"], { progress })), services);
        },
    });
}

if (require.main === module) runCli(main);
