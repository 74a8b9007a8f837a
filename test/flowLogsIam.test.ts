// The VPC flow logs' IAM role: only this account's flow logs may assume it, and every action it is
// granted supports the resources it is scoped to.
import * as assert from "node:assert/strict";
import { flowLogsPermissions } from "../components/network";
import { byName, byType, inputs } from "./harness";
import { recordedPlatform, T } from "./support/platform";

/** Actions without resource-level permissions: only `*` grants them. */
const STAR_ONLY_ACTIONS = ["logs:DescribeLogGroups"];

describe("network: flow logs IAM", function () {
    this.timeout(120_000);
    const runs = recordedPlatform();

    it("trusts VPC Flow Logs only with aws:SourceAccount and aws:SourceArn of the caller's account", () => {
        const role = byName(runs.prod, T.role, "network-flow-logs");
        const [statement] = JSON.parse(inputs(role).assumeRolePolicy).Statement;
        assert.deepEqual(statement.Principal, { Service: "vpc-flow-logs.amazonaws.com" });
        // The harness answers getCallerIdentity with account 123456789012.
        assert.equal(statement.Condition.StringEquals["aws:SourceAccount"], "123456789012");
        assert.equal(statement.Condition.ArnLike["aws:SourceArn"], "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*");
    });

    it("grants DescribeLogGroups on * (it has no resource-level permission) and the rest on its log group", () => {
        assert.ok(
            byType(runs.prod, T.rolePolicy).some((r) => r.name === "network-flow-logs"),
            "the role has its inline policy",
        );
        const logGroup = "arn:aws:logs:us-east-1:123456789012:log-group:/release-platform/prod/vpc-flow-logs";
        const statements = (flowLogsPermissions(logGroup) as any).Statement;
        for (const s of statements) {
            const actions = [s.Action].flat();
            if (actions.some((a: string) => STAR_ONLY_ACTIONS.includes(a))) assert.equal(s.Resource, "*", JSON.stringify(s));
        }
        const granted = statements.flatMap((s: any) => [s.Action].flat());
        for (const action of ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"])
            assert.ok(granted.includes(action), action);
        const scoped = statements.find((s: any) => [s.Action].flat().includes("logs:PutLogEvents"));
        assert.deepEqual(scoped.Resource, [logGroup, `${logGroup}:*`]);
    });
});
