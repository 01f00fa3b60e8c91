import type { Clients } from '../../src/core/clients.js';
import { createClients } from '../../src/runtime/clients.js';
import { startEmulators, type Emulators } from '../../src/testing/emulators.js';

/**
 * Starts DynamoDB Local only: the benchmarks read no Kinesis stream, and an idle kinesis-mock
 * still takes ~2% of a core on this 2-core machine. Giving `startEmulators` a Kinesis endpoint
 * makes it skip that emulator; nothing ever connects to the placeholder.
 */
export function startDynamoLocal(): Promise<Emulators> {
  return startEmulators({ endpoints: { kinesis: 'http://127.0.0.1:9' } });
}

/** Clients bound to a DynamoDB endpoint (the emulator's, or the one in the environment). */
export function benchClients(dynamodbEndpoint?: string): Clients {
  return createClients({
    dynamodbEndpoint: dynamodbEndpoint ?? process.env.TRIBUTARY_DYNAMODB_ENDPOINT,
    region: 'us-east-1',
  });
}

/** A name no earlier run used, so each measurement gets fresh leases and tables. */
export const fresh = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
