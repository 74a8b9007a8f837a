// The network (VPC, subnets, NAT, flow logs),
// checked on the resources the real program registers for the shipped stacks.
import * as assert from "node:assert/strict";
import { byType, configValue, inputs } from "./harness";
import { cidrSubnet, planSubnets } from "../components/network";
import { only, sources, T, ZONES, recordedPlatform } from "./support/platform";

const runs = recordedPlatform();

describe("platform: network", () => {
    it("carves disjoint subnets deterministically from the VPC CIDR", () => {
        assert.equal(cidrSubnet("10.20.0.0/16", 3, 1), "10.20.32.0/19");
        assert.equal(cidrSubnet("10.20.0.0/16", 6, 57), "10.20.228.0/22");
        const plan = planSubnets("10.10.0.0/20", ["a", "b", "c", "d", "e", "f"]);
        const all = plan.flatMap((p) => [p.publicCidr, p.privateCidr]);
        assert.equal(new Set(all).size, 12);
        assert.deepEqual(plan[5], { zone: "f", privateCidr: "10.10.10.0/23", publicCidr: "10.10.15.64/26" });
    });

    for (const name of ["staging", "prod"] as const) {
        it(`${name}: a public and a private subnet in each of ${ZONES[name]} zones, tagged for EKS load balancers`, () => {
            const run = name === "staging" ? runs.staging : runs.prod;
            const subnets = byType(run, T.subnet).map(inputs);
            const publicSubnets = subnets.filter((s) => s.tags["kubernetes.io/role/elb"] === "1");
            const privateSubnets = subnets.filter((s) => s.tags["kubernetes.io/role/internal-elb"] === "1");
            const zones: string[] = configValue(run.source, "availabilityZones");
            assert.equal(zones.length, ZONES[name]);
            assert.equal(subnets.length, 2 * ZONES[name]);
            assert.deepEqual(publicSubnets.map((s) => s.availabilityZone).sort(), zones);
            assert.deepEqual(privateSubnets.map((s) => s.availabilityZone).sort(), zones);
            for (const s of subnets) assert.equal(s.tags[`kubernetes.io/cluster/release-platform-${name}`], "shared");
            assert.equal(new Set(subnets.map((s) => s.cidrBlock)).size, subnets.length);
        });
    }

    it("runs one NAT gateway per zone in runs.prod and one shared in runs.staging, and every private subnet routes through one", () => {
        assert.equal(byType(runs.staging, T.nat).length, 1);
        assert.equal(byType(runs.prod, T.nat).length, 3);
        for (const { run } of runs.stacks) {
            const privateTables = byType(run, T.routeTable).filter((t) => t.name.includes("-private-"));
            assert.equal(privateTables.length, configValue<string[]>(run.source, "availabilityZones").length);
            for (const table of privateTables) {
                assert.ok(
                    sources(run, table, "routes").some((r) => r.type === T.nat),
                    `${table.name} has no route to a NAT gateway`,
                );
            }
        }
        const prodNats = byType(runs.prod, T.routeTable)
            .filter((t) => t.name.includes("-private-"))
            .map((t) => sources(runs.prod, t, "routes").find((r) => r.type === T.nat)!.urn);
        assert.equal(new Set(prodNats).size, 3, "each runs.prod zone routes through its own NAT gateway");
    });

    it("sends VPC flow logs of all traffic to CloudWatch through an IAM role", () => {
        for (const { run } of runs.stacks) {
            const flowLog = only(run, T.flowLog);
            assert.equal(inputs(flowLog).trafficType, "ALL");
            assert.equal(inputs(flowLog).logDestinationType, "cloud-watch-logs");
            assert.deepEqual(
                sources(run, flowLog, "vpcId").map((r) => r.type),
                [T.vpc],
            );
            assert.deepEqual(
                sources(run, flowLog, "iamRoleArn").map((r) => r.type),
                [T.role],
            );
        }
    });
});
