// The stack configuration: the one place that reads and validates it. Types in `types.ts`, value
// checks in `checks.ts`, the field reader in `reader.ts`, parsing in `parse.ts` and `sections.ts`;
// what the running program reads through the Pulumi SDK in `program.ts`. This module loads no SDK,
// so the offline tools start their policy pack before they load it.

export * from "./types";
export { DEFAULT_ROLLBACK_WINDOW, isCidr, ROLLBACK_WINDOW_PATTERN } from "./checks";
export { keysRead, parseStackConfig, TOP_LEVEL_KEYS } from "./parse";
export { ALERTING_KEYS } from "./alerting";
