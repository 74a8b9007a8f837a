// The release state a command starts from: the stack file, parsed and validated like the program
// reads it.
import type { StackConfig } from "../config";
import type { ChangeWindow } from "./changeWindow";
import { parseDuration, ReleaseState, serviceStatus } from "./rules";

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

/** One line per service for the offline plan: the live color and the release steps the rules allow now. */
export function releaseStepNotes(config: StackConfig, window: ChangeWindow, now: Date): string[] {
    const state = releaseStateOf(config);
    return state.services.map((s) => {
        const { allowed } = serviceStatus(state, s, now, window);
        return `Release: ${s.name} runs ${s[s.live].version} live on ${s.live}; steps allowed now: ${allowed.join(", ") || "none"} (npm run release -- status --stack ${state.stack} says why).`;
    });
}
