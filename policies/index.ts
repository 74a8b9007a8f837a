// The release-platform policy pack: assembles the policies; each module documents its rules.
import { PolicyPack } from "@pulumi/policy";
import { awsPolicies } from "./aws";
import { kubernetesPolicies } from "./kubernetes";
import { releasePolicies } from "./release";
import { sharePropertiesReadOnly } from "./sharedProperties";
import { writeResponsesDirectly } from "./responseEncoding";
import { decodeStructsLazily } from "./structDecoding";

decodeStructsLazily();
sharePropertiesReadOnly();
writeResponsesDirectly();

new PolicyPack("release-platform", {
    policies: [...kubernetesPolicies, ...awsPolicies, ...releasePolicies],
    enforcementLevel: "mandatory",
});
