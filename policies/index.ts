// The release-platform policy pack: assembles the policies; each module documents its rules.
import { PolicyPack } from "@pulumi/policy";
import { convertPropertiesOnce } from "./convertOnce";
import { awsPolicies } from "./aws";
import { kubernetesPolicies } from "./kubernetes";
import { releasePolicies } from "./release";
import { decodeStructsLazily } from "./structDecoding";

decodeStructsLazily();
convertPropertiesOnce();

new PolicyPack("release-platform", {
    policies: [...kubernetesPolicies, ...awsPolicies, ...releasePolicies],
    enforcementLevel: "mandatory",
});
