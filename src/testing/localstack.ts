import { TributaryError } from '../core/errors.js';
import type { Emulators } from './emulators.js';

/** LocalStack's image: DynamoDB, DynamoDB Streams and Kinesis on one port. */
export const LOCALSTACK_IMAGE = 'localstack/localstack:4';

/**
 * Whether a container runtime (Docker, Podman) answers, as testcontainers finds it
 * (`DOCKER_HOST`, the socket, `~/.testcontainers.properties`): the reason when none does.
 */
export async function dockerAvailable(): Promise<
  { readonly ok: true } | { readonly ok: false; readonly reason: string }
> {
  let tc: typeof import('testcontainers');
  try {
    tc = await import('testcontainers');
  } catch {
    return {
      ok: false,
      reason:
        "the package '@testcontainers/localstack' is not installed (npm install --save-dev @testcontainers/localstack)",
    };
  }
  try {
    await tc.getContainerRuntimeClient();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `no Docker engine answers (${(e as Error).message.split('\n')[0]})` };
  }
}

/**
 * Starts LocalStack in a container through `@testcontainers/localstack` (an optional peer
 * dependency, loaded only here); DynamoDB, its Streams and Kinesis share its one endpoint.
 * Throws `testing.dockerMissing` saying why when no container runtime answers.
 *
 * @example
 * ```ts
 * const emu = await startLocalStack();
 * try { ...emu.endpoints.dynamodb, emu.endpoints.kinesis... } finally { await emu.stop(); }
 * ```
 */
export async function startLocalStack(image = LOCALSTACK_IMAGE): Promise<Emulators> {
  const docker = await dockerAvailable();
  if (!docker.ok)
    throw new TributaryError(
      'testing.dockerMissing',
      `LocalStack runs in a container, and ${docker.reason}: use the local emulators instead (startEmulators() without backend: 'localstack')`,
    );
  const { LocalstackContainer } = await import('@testcontainers/localstack');
  const container = await new LocalstackContainer(image).withEnvironment({ SERVICES: 'dynamodb,kinesis' }).start();
  const uri = container.getConnectionUri();
  return {
    endpoints: { dynamodb: uri, kinesis: uri },
    pids: [],
    stop: async () => {
      await container.stop();
    },
  };
}
