// The protocol modules the analyzer of @pulumi/policy runs on: the @pulumi/pulumi it depends on
// (its generated analyzer classes) and that package's google-protobuf. The pack's patches to
// decoding and encoding must reach those copies, not whichever another package resolves.
import * as path from "path";

const POLICY_SDK_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [path.dirname(require.resolve("@pulumi/policy"))] }));

/** `require(request)` as @pulumi/policy's @pulumi/pulumi resolves it. */
export function requireOfPolicy<T = any>(request: string): T {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(require.resolve(request, { paths: [POLICY_SDK_DIR] }));
}
