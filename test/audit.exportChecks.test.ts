// `audit` checks what a stack export carries and the analyzer protocol cannot (retainOnDelete of
// the pre-migration snapshots), on an export of the real prod program, through the real pack.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runProgram } from "./harness";
import { execute } from "../tools/cli";
import { audit, parseAuditArgs } from "../tools/audit";
import { snapshotRetainOnDelete } from "../tools/exportChecks";
import { StackExport, toStackExport } from "../offline/stackExport";

const SNAPSHOT = "aws:rds/snapshot:Snapshot";

describe("audit: checks only a stack export can carry", function () {
    this.timeout(180000);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "audit-export-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    let exported: StackExport;

    before(async () => {
        exported = toStackExport(await runProgram({ stack: "prod" }));
    });

    async function auditJson(data: StackExport, name: string) {
        const file = path.join(tmp, `${name}.json`);
        fs.writeFileSync(file, JSON.stringify(data));
        const run = await execute(() => audit(parseAuditArgs([file, "--json"])));
        return { code: run.code, doc: JSON.parse(run.output) };
    }

    it("a pre-migration snapshot with retainOnDelete false is a mandatory violation from the export; quiet on the program's export", async () => {
        const snapshots = exported.deployment.resources.filter((r) => r.type === SNAPSHOT);
        assert.ok(snapshots.length > 0, "prod has a pre-migration snapshot");
        assert.deepEqual(snapshotRetainOnDelete.check(exported.deployment.resources), [], "the program's snapshots are retainOnDelete");

        const changed = structuredClone(exported);
        const snapshot = changed.deployment.resources.find((r) => r.type === SNAPSHOT)!;
        snapshot.retainOnDelete = false;
        const { code, doc } = await auditJson(changed, "no-retain");
        assert.equal(code, 1);
        const found = doc.violations.filter((v: any) => v.policyName === "rds-snapshot-retain-on-delete");
        assert.deepEqual(found, [
            {
                policyName: "rds-snapshot-retain-on-delete",
                enforcementLevel: "mandatory",
                urn: snapshot.urn,
                message: "pre-migration snapshot database-snapshot-1-2-3 is not retainOnDelete; create it with the resource option retainOnDelete: true",
                source: "stack-export",
            },
        ]);
        assert.ok(doc.violations.filter((v: any) => v !== found[0]).every((v: any) => v.source === undefined));
    });

    it("an unset retainOnDelete counts as false; a snapshot no migration waits for is not checked", () => {
        const changed = structuredClone(exported);
        const snapshot = changed.deployment.resources.find((r) => r.type === SNAPSHOT)!;
        delete snapshot.retainOnDelete;
        assert.equal(snapshotRetainOnDelete.check(changed.deployment.resources).length, 1);
        for (const r of changed.deployment.resources) r.dependencies = (r.dependencies ?? []).filter((d) => d !== snapshot.urn);
        assert.deepEqual(snapshotRetainOnDelete.check(changed.deployment.resources), []);
    });
});
