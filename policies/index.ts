// The release-platform policy pack: assembles the policies; each module documents its rules.
import { PolicyPack } from "@pulumi/policy";
import { awsPolicies } from "./aws";
import { kubernetesPolicies } from "./kubernetes";
import { releasePolicies } from "./release";
import { sharePropertiesReadOnly } from "./sharedProperties";
import { decodeStructsLazily } from "./structDecoding";

decodeStructsLazily();
sharePropertiesReadOnly();

new PolicyPack("release-platform", {
    policies: [...kubernetesPolicies, ...awsPolicies, ...releasePolicies],
    enforcementLevel: "mandatory",
});
