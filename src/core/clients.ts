/**
 * The AWS clients a running app uses. `core` holds only the shape; `runtime` builds them.
 * Typed structurally so that `core` imports no AWS client.
 */
export interface Clients {
  readonly dynamodb: import('@aws-sdk/client-dynamodb').DynamoDBClient;
  readonly streams: import('@aws-sdk/client-dynamodb-streams').DynamoDBStreamsClient;
  readonly kinesis: import('@aws-sdk/client-kinesis').KinesisClient;
}
