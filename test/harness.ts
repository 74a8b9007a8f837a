// The offline engine as the tests use it (evaluating the program under Pulumi's mocks lives in
// offline/), plus queries over a recorded run.
import { ProgramRun, RecordedResource } from "../offline/program";
import { isSecret, RESOURCE_SIG, SIG_KEY } from "../offline/wire";

export { PROGRAM, ProgramError, ProgramRun, RecordedResource, RunOptions, runProgram } from "../offline/program";
export { configValue, readStackConfig, ROOT, secretPlaceholder, StackConfigSource, withOverrides, withSecrets } from "../offline/stackConfig";
export { isSecret as isSecretValue, providerUrn, RESOURCE_SIG, SECRET_SIG, SIG_KEY, STACK_TYPE, UNKNOWN } from "../offline/wire";

/** Strips secret envelopes (keeping values) so tests can read inputs as plain objects; unknowns stay `UNKNOWN`. */
export function plain<T = any>(v: unknown): T {
    if (isSecret(v)) return plain(v.value);
    if (Array.isArray(v)) return v.map((x) => plain(x)) as T;
    if (v && typeof v === "object") {
        if ((v as any)[SIG_KEY] === RESOURCE_SIG) return (v as any).urn as T;
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) as T;
    }
    return v as T;
}

/** A recorded resource's inputs as plain values (secrets unwrapped, references as URNs). */
export function inputs(r: RecordedResource): any {
    return plain(r.inputs);
}

/** Lookups over a run's resources. */
export function byType(run: ProgramRun, type: string): RecordedResource[] {
    return run.resources.filter((r) => r.type === type);
}

export function byName(run: ProgramRun, type: string, name: string): RecordedResource {
    const found = run.resources.find((r) => r.type === type && r.name === name);
    if (!found) {
        const names = byType(run, type).map((r) => r.name);
        throw new Error(`no ${type} named ${name}; have: ${names.join(", ") || "none"}`);
    }
    return found;
}

export function byUrn(run: ProgramRun, urn: string): RecordedResource {
    const found = run.resources.find((r) => r.urn === urn);
    if (!found) throw new Error(`no resource ${urn}`);
    return found;
}

/** Whether `from` depends on `to`, directly or through other resources' dependencies or parents' children. */
export function dependsOn(run: ProgramRun, from: RecordedResource, to: RecordedResource): boolean {
    const seen = new Set<string>();
    const stack = [from.urn];
    while (stack.length) {
        const urn = stack.pop()!;
        if (urn === to.urn && urn !== from.urn) return true;
        if (seen.has(urn)) continue;
        seen.add(urn);
        const r = run.resources.find((x) => x.urn === urn);
        if (!r) continue;
        stack.push(...r.dependencies);
        // A dependency on a component is a dependency on everything beneath it.
        if (!r.custom) stack.push(...run.resources.filter((x) => x.parent === r.urn).map((x) => x.urn));
    }
    return false;
}
