import { loadStackConfig } from "./config";

const config = loadStackConfig();

export const environment = config.environment;
