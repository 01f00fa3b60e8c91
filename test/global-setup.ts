import type { TestProject } from 'vitest/node';
import { startEmulators, type Emulators } from '../src/testing/emulators.js';

let emulators: Emulators | undefined;

/** Starts DynamoDB Local and kinesis-mock once for the run (or uses endpoints from the environment). */
export async function setup(project: TestProject): Promise<void> {
  emulators = await startEmulators();
  project.provide('endpoints', emulators.endpoints);
}

export async function teardown(): Promise<void> {
  await emulators?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: { dynamodb: string; kinesis: string };
  }
}
