// `--apply`: the update through Pulumi's Automation API, in this project directory. A preview with
// the policy pack first; its engine events are checked against what the step may change, then
// `up` with the same pack, targets and config, the engine's output streamed as it comes.
import * as fs from "fs";
import * as path from "path";
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";
import { AllowedChanges, checkEngineSteps } from "./allowedChanges";

export class PulumiCliMissing extends Error {}
export class ApplyAborted extends Error {}

/** The `pulumi` executable on PATH, or undefined. */
export function findPulumiCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const names = process.platform === "win32" ? ["pulumi.exe", "pulumi.cmd"] : ["pulumi"];
    for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
        for (const name of names) {
            const candidate = path.join(dir, name);
            try {
                fs.accessSync(candidate, fs.constants.X_OK);
                if (fs.statSync(candidate).isFile()) return candidate;
            } catch {
                // not here
            }
        }
    }
    return undefined;
}

export const PULUMI_CLI_MISSING =
    "--apply needs the Pulumi CLI (`pulumi` on PATH; https://www.pulumi.com/docs/install/), a backend it is logged in to (`pulumi login`) and cloud credentials for the stack; nothing was written";

/** Fails before anything is written when the CLI is not installed. */
export function requirePulumiCli(): string {
    const cli = findPulumiCli();
    if (!cli) throw new PulumiCliMissing(PULUMI_CLI_MISSING);
    return cli;
}

export interface ApplyRequest {
    stack: string;
    /** The project directory (Pulumi.yaml). */
    workDir: string;
    policyPackDir: string;
    policyConfigFile: string;
    allowed: AllowedChanges;
    /** Engine output, line by line as it streams. */
    onOutput: (text: string) => void;
    /** Stops the preview or the update (Ctrl-C). */
    signal?: AbortSignal;
}

export interface ApplyResult {
    /** Operation counts of the update, e.g. `{ update: 2, same: 180 }`. */
    changes: Record<string, number>;
}

/** Preview, check the engine's resource steps, then update; throws ApplyAborted when the preview goes beyond the step. */
export async function applyStep(req: ApplyRequest): Promise<ApplyResult> {
    const cli = requirePulumiCli();
    // Loaded only here: the Automation API is not needed to show or write a step.
    const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(path.dirname(cli)), skipVersionCheck: true }).catch(() => undefined);
    const stack = await LocalWorkspace.selectStack({ stackName: req.stack, workDir: req.workDir }, pulumiCommand ? { pulumiCommand } : undefined);
    const common = {
        policyPacks: [req.policyPackDir],
        policyPackConfigs: [req.policyConfigFile],
        ...(req.allowed.targets ? { target: req.allowed.targets } : {}),
        onOutput: req.onOutput,
        ...(req.signal ? { signal: req.signal } : {}),
    };
    const steps: StepEventMetadata[] = [];
    await stack.preview({ ...common, diff: true, onEvent: (e: EngineEvent) => e.resourcePreEvent && steps.push(e.resourcePreEvent.metadata) });
    const problems = checkEngineSteps(steps, req.allowed);
    if (problems.length) {
        throw new ApplyAborted(`the preview goes beyond this step, so nothing was updated:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    const result = await stack.up(common);
    return { changes: (result.summary.resourceChanges ?? {}) as Record<string, number> };
}
