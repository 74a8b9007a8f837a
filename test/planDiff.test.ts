// The plan diff: by URN, replace decided from replace-on-change properties, options and providers;
// unknowns and undecryptable secrets assumed unchanged; secrets never shown.
import * as assert from "node:assert/strict";
import { configValue, ProgramRun, readStackConfig, runProgram, SECRET_SIG, SIG_KEY, UNKNOWN } from "./harness";
import { toStackExport } from "../offline/stackExport";
import { allChanges, diffResources, DiffResource, diffResourcesOfExport, diffResourcesOfRun, renderDiff, SECRET_SHOWN } from "../offline/planDiff";

const urn = (type: string, name: string) => `urn:pulumi:prod::release-platform::${type}::${name}`;
const SERVICE = "kubernetes:core/v1:Service";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

function resource(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<DiffResource> = {}): DiffResource {
    return { urn: urn(type, name), type, custom: true, inputs, ...extra };
}

describe("plan diff", () => {
    const service = (color: string) =>
        resource(SERVICE, "auth-service", { metadata: { name: "auth-service" }, spec: { selector: { app: "auth-service", color } } });
    const deployment = (image: string, selector = { app: "auth-service", color: "blue" }) =>
        resource(DEPLOYMENT, "auth-service-blue", {
            metadata: { name: "auth-service-blue" },
            spec: { selector: { matchLabels: selector }, template: { spec: { containers: [{ image }] } } },
        });

    it("reports added, changed, replaced and removed resources by URN with the changed paths", () => {
        const before = [service("blue"), deployment("a:1"), resource("kubernetes:core/v1:ConfigMap", "old", { data: { a: "1" } })];
        const after = [
            service("green"),
            deployment("a:1", { app: "auth-service", color: "green" }),
            resource("kubernetes:core/v1:ConfigMap", "new", { data: { a: "1" } }),
        ];
        const diff = diffResources(before, after);
        assert.deepEqual(
            diff.changed.map((r) => [r.name, r.changes.map((c) => `${c.path} ${c.kind} ${c.before}→${c.after}`)]),
            [["auth-service", ["spec.selector.color update blue→green"]]],
        );
        assert.deepEqual(
            diff.replaced.map((r) => [r.name, r.replaceReasons]),
            [["auth-service-blue", ["spec.selector.matchLabels.color"]]],
        );
        assert.deepEqual(
            diff.added.map((r) => r.name),
            ["new"],
        );
        assert.deepEqual(
            diff.removed.map((r) => r.name),
            ["old"],
        );
        assert.equal(diff.unchanged, 0);
        const text = renderDiff(diff).join("\n");
        assert.match(text, /^ {2}~ {2}kubernetes:core\/v1:Service {2}auth-service\n {7}spec\.selector\.color: "blue" → "green"$/m);
        assert.match(text, /^ {2}\+- kubernetes:apps\/v1:Deployment {2}auth-service-blue {2}\(replace: spec\.selector\.matchLabels\.color changed\)$/m);
        assert.match(text, /1 to add, 1 to change, 1 to replace, 1 to remove, 0 unchanged$/);
    });

    it("a change of an image in a Deployment's template is an update, not a replace", () => {
        const diff = diffResources([deployment("a:1")], [deployment("a:2")]);
        assert.deepEqual(
            diff.changed.map((r) => r.changes.map((c) => c.path)),
            [["spec.template.spec.containers[0].image"]],
        );
        assert.equal(diff.replaced.length, 0);
    });

    it("honours the replaceOnChanges option and a changed provider", () => {
        const withOption = (v: string) => resource("aws:rds/instance:Instance", "db", { instanceClass: v }, { replaceOnChanges: ["instanceClass"] });
        assert.deepEqual(
            diffResources([withOption("a")], [withOption("b")]).replaced.map((r) => r.replaceReasons),
            [["instanceClass"]],
        );
        const withProvider = (p: string) => resource("aws:ec2/vpc:Vpc", "vpc", { cidrBlock: "10.0.0.0/16" }, { provider: p });
        const p1 = `${urn("pulumi:providers:aws", "default")}::id-1`;
        const p2 = `${urn("pulumi:providers:aws", "other")}::id-2`;
        assert.deepEqual(
            diffResources([withProvider(p1)], [withProvider(p2)]).replaced.map((r) => r.replaceReasons),
            [["provider"]],
        );
        // A preview's unknown provider id matches the deployed provider's id.
        assert.equal(diffResources([withProvider(p1)], [withProvider(`${urn("pulumi:providers:aws", "default")}::${UNKNOWN}`)]).unchanged, 1);
    });

    it("assumes unknown values and undecryptable secrets unchanged, and never shows a secret's value", () => {
        const secret = (value?: string) => ({ [SIG_KEY]: SECRET_SIG, ...(value === undefined ? { ciphertext: "" } : { value }) });
        const s = (v: unknown, vpc: unknown) => resource("kubernetes:core/v1:Secret", "app", { stringData: { JWT: v }, vpcId: vpc });
        assert.equal(diffResources([s(secret(), "vpc-1")], [s(secret("x"), UNKNOWN)]).unchanged, 1);
        const changed = diffResources([s(secret("hunter2"), "vpc-1")], [s(secret("hunter3"), "vpc-1")]);
        assert.deepEqual(
            changed.changed[0].changes.map((c) => [c.path, c.before, c.after]),
            [["stringData.JWT", SECRET_SHOWN, SECRET_SHOWN]],
        );
        assert.doesNotMatch(renderDiff(changed).join("\n"), /hunter/);
    });

    describe("on the evaluated program", () => {
        let prod: ProgramRun;
        let renamed: ProgramRun;

        before(async () => {
            prod = await runProgram({ stack: "prod" });
            const database = configValue(readStackConfig("prod"), "database");
            renamed = await runProgram({ stack: "prod", overrides: { database: { ...database, dbName: "renamed" } } });
        });

        it("finds no change between a plan and its own stack export", () => {
            const diff = diffResources(diffResourcesOfExport(toStackExport(prod)), diffResourcesOfRun(prod));
            assert.deepEqual(allChanges(diff), []);
            assert.equal(diff.unchanged, prod.resources.length);
        });

        it("replaces the database when a forceNew property changes", () => {
            const diff = diffResources(diffResourcesOfRun(prod), diffResourcesOfRun(renamed));
            const primary = diff.replaced.find((r) => r.type === "aws:rds/instance:Instance" && r.name === "database-primary");
            assert.ok(primary, renderDiff(diff).join("\n"));
            assert.deepEqual(primary.replaceReasons, ["dbName"]);
        });
    });
});
