/** Waits; for letting time pass in a scenario, never as an assertion. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
