// The release state a command starts from: the stack file, parsed and validated like the program
// reads it.
import type { StackConfig } from "../config";
import { parseDuration, ReleaseState } from "./rules";

export function releaseStateOf(config: StackConfig): ReleaseState {
    const window = config.rollbackWindow;
    return {
        stack: config.stack,
        services: config.services.map((s) => ({
            name: s.name,
            live: s.live,
            blue: { ...s.blue },
            green: { ...s.green },
            minReplicas: s.autoscaling.minReplicas,
            ...(s.promotedAt ? { promotedAt: s.promotedAt } : {}),
        })),
        release: { ...config.release },
        migrations: config.migrations.map((m) => ({ release: m.release, image: m.image })),
        rollbackWindow: { text: window, ms: parseDuration(window)! },
    };
}
