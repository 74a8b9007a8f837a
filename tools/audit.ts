// npm run audit -- <stack-export.json> [--policy-config <file>] [--json | --markdown] [--policy-pack <dir>]
//
// Checks every resource of a `pulumi stack export` file (from `plan --out` or a deployed stack)
// with the policy pack, as `pulumi policy check` does: Analyze per resource with its inputs,
// AnalyzeStack once with the resources' state. Exit codes as for plan.
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
    stringFlag,
} from "./cli";
import { exportViolations } from "./exportChecks";
import { renderMarkdown } from "./markdown";
import { checkWith } from "../offline/policyCheck";
import { readPolicyConfigFile } from "../offline/policyConfig";
import { countByLevel, renderJson, Report, ShownResource } from "./report";
import { analysisForExport, ExportResource, readStackExport, StackExport } from "../offline/stackExport";
import { isProvider, STACK_TYPE, urnName } from "../offline/wire";

const USAGE = "usage: npm run audit -- <stack-export.json> [--policy-config <file>] [--json | --markdown] [--policy-pack <dir>]";

export interface AuditOptions {
    exportFile: string;
    policyConfigFile: string;
    format: OutputFormat;
    packDir: string;
}

export function parseAuditArgs(argv: string[]): AuditOptions {
    const args = parseArgs(argv, { values: ["policy-config", "policy-pack"], booleans: ["json", "markdown"] }, USAGE);
    if (args.positional.length !== 1) throw new InputError(`expected one stack export file\n${USAGE}`);
    return {
        exportFile: args.positional[0],
        policyConfigFile: stringFlag(args, "policy-config") ?? policyConfigOf("prod"),
        format: outputFormat(args, USAGE),
        packDir: stringFlag(args, "policy-pack") ?? DEFAULT_PACK_DIR,
    };
}

export async function audit(opts: AuditOptions): Promise<CommandResult> {
    // The export is read while the pack starts.
    const {
        prepared: { data, input, identity },
        check: packCheck,
    } = await checkWith(
        opts.packDir,
        opts.policyConfigFile,
        async () => {
            const data = readStackExport(opts.exportFile);
            return { data, input: analysisForExport(data), identity: stackIdentity(data.deployment.resources) };
        },
        ({ input, identity }) => ({ ...identity, dryRun: false, input }),
    );
    const resources = data.deployment.resources;
    const { stack } = identity;
    // What the export carries and the analyzer protocol doesn't (retainOnDelete), checked here.
    const allLevel = readPolicyConfigFile(opts.policyConfigFile).all?.enforcementLevel;
    const check = { ...packCheck, violations: [...packCheck.violations, ...exportViolations(data, packCheck.pack, allLevel)] };
    const report: Report = {
        title: `Audit ${stack}: ${opts.exportFile} (${resources.length} resources in the export)`,
        resources: resources.filter((r) => !r.delete).map(shownResource),
        stackOutputs: resources.find((r) => r.type === STACK_TYPE)?.outputs,
        notes: auditNotes(data, input.undecryptedSecrets),
        check,
        policyConfigFile: relative(opts.policyConfigFile),
    };
    const listed = resources.map((r) => ({
        urn: r.urn,
        type: r.type,
        custom: r.custom,
        ...(r.id ? { id: r.id } : {}),
        ...(r.parent ? { parent: r.parent } : {}),
    }));
    const output = render(opts.format, report, {
        json: () => renderJson(report, listed, { stack, exportFile: opts.exportFile }),
        markdown: () => renderMarkdown(report, { kind: "Audit", stack, source: opts.exportFile }),
    });
    return { code: countByLevel(check.violations).mandatory ? EXIT_MANDATORY_VIOLATIONS : EXIT_OK, output };
}

/** Stack and project from the URNs: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
function stackIdentity(resources: ExportResource[]): { stack: string; project: string } {
    const urn = resources.find((r) => r.type === STACK_TYPE)?.urn ?? resources[0]?.urn ?? "";
    const [prefix, project = ""] = urn.split("::");
    return { stack: prefix.replace(/^urn:pulumi:/, "") || "(empty)", project };
}

function shownResource(r: ExportResource): ShownResource {
    const neverCreated = r.custom && !r.id;
    return {
        urn: r.urn,
        type: r.type,
        name: urnName(r.urn),
        custom: r.custom,
        parent: r.parent,
        properties: (neverCreated ? r.inputs : r.outputs) ?? {},
    };
}

function auditNotes(data: StackExport, undecryptedSecrets: number): string[] {
    const notes: string[] = [];
    const resources = data.deployment.resources;
    const neverCreated = resources.filter((r) => r.custom && !r.id && !isProvider(r)).length;
    if (neverCreated) {
        notes.push(`${neverCreated} custom resources have no id (never created, e.g. an offline plan export): their inputs stand in for their state.`);
    }
    if (undecryptedSecrets) {
        notes.push(
            `${undecryptedSecrets} resources hold secrets that can't be decrypted offline; they were sent as unknown, so policies reading them report "can't run … during preview" as advisory.`,
        );
    }
    const pendingDeletes = resources.filter((r) => r.delete).length;
    if (pendingDeletes) notes.push(`${pendingDeletes} resources pending deletion were not checked (as in pulumi policy check).`);
    if (!resources.length) notes.push("The export has no resources.");
    return notes;
}

if (require.main === module) {
    runCli(() => audit(parseAuditArgs(process.argv.slice(2))));
}
