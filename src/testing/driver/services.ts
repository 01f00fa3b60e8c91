import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Clients } from '../../core/clients.js';
import { tagCallTargets } from '../../runtime/call-target.js';
import { Faults } from './faults.js';
import { InProcessHandler, type Service } from './handler.js';
import { MemoryDynamoDB } from './memory-dynamodb.js';
import type { WireAnswer } from './wire.js';
import { MemoryKinesis } from './memory-kinesis.js';

/** Clients of one app instance, and the switch that cuts them off as a crash would. */
export interface Connection {
  readonly clients: Clients;
  /** From now on, every request of these clients goes unanswered, as to a process that died. */
  sever(): void;
}

/**
 * DynamoDB, DynamoDB Streams and Kinesis in this process, shared by every connection the driver
 * makes (the test's own, and one per start of the app), with the faults the test injects and a
 * count of the requests not yet answered (the virtual clock waits for it to reach 0).
 */
export class InProcessServices {
  readonly dynamodb: MemoryDynamoDB;
  readonly kinesis: MemoryKinesis;
  readonly faults: Faults;
  private pending = 0;
  private readonly region: string;

  constructor(opts: { readonly region: string; readonly now: () => number; readonly onWait: () => void }) {
    this.dynamodb = new MemoryDynamoDB({ region: opts.region, onWait: opts.onWait });
    this.kinesis = new MemoryKinesis(opts.region);
    this.faults = new Faults(opts.now);
    this.region = opts.region;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending;
  }

  /** New clients on the services, as `createClients` builds them for AWS. */
  connect(opts: { readonly faults?: boolean } = {}): Connection {
    const faults = opts.faults ?? true;
    let severed = false;
    const counted =
      (service: Service): Service =>
      async (operation, body) => {
        // A dead process's requests reach nothing and never come back; they are not waited for.
        if (severed) return new Promise<WireAnswer>(() => {});
        this.pending++;
        try {
          return await service(operation, body);
        } finally {
          this.pending--;
        }
      };
    const requestHandler = new InProcessHandler({
      DynamoDB_20120810: counted((op, body) =>
        faults ? this.faults.dynamodb(op, body, (b) => this.dynamodb.call(op, b)) : this.dynamodb.call(op, body),
      ),
      DynamoDBStreams_20120810: counted((op, body) => this.dynamodb.streams.call(op, body)),
      Kinesis_20131202: counted((op, body) =>
        faults ? this.faults.kinesis(op, body, (b) => this.kinesis.call(op, b)) : this.kinesis.call(op, body),
      ),
    });
    const cfg = {
      region: this.region,
      endpoint: 'http://in-process.tributary',
      credentials: { accessKeyId: 'test-driver', secretAccessKey: 'test-driver' },
      requestHandler,
      // Nothing checks a signature in-process: SigV4 would be a third of the SDK's time per call.
      httpAuthSchemeProvider: () => [{ schemeId: 'smithy.api#noAuth' }],
      httpAuthSchemes: [
        {
          schemeId: 'smithy.api#noAuth',
          identityProvider: () => async () => ({}),
          signer: { sign: async <R>(request: R) => request },
        },
      ],
      // The middleware stack of a command is resolved once, not on every call; the endpoint is
      // fixed, so no endpoint rules are evaluated per call.
      cacheMiddleware: true,
      endpointProvider: () => ({ url: new URL('http://in-process.tributary') }),
    };
    const clients: Clients = {
      dynamodb: new DynamoDBClient(cfg),
      // As createClients: the governed data path retries itself.
      dynamodbData: new DynamoDBClient({ ...cfg, maxAttempts: 1 }),
      streams: new DynamoDBStreamsClient(cfg),
      kinesis: new KinesisClient(cfg),
    };
    for (const c of [clients.dynamodb, clients.dynamodbData!, clients.streams, clients.kinesis]) {
      c.middlewareStack.remove('loggerMiddleware');
      // Nothing reads a user agent in-process; building it is a measurable share of a call.
      c.middlewareStack.remove('getUserAgentMiddleware');
    }
    tagCallTargets(clients);
    return { clients, sever: () => void (severed = true) };
  }
}
