/**
 * The AWS clients a running app uses. `core` holds only the shape; `runtime` builds them.
 * Typed structurally so that `core` imports no AWS client.
 */
export interface Clients {
  readonly dynamodb: import('@aws-sdk/client-dynamodb').DynamoDBClient;
  readonly streams: import('@aws-sdk/client-dynamodb-streams').DynamoDBStreamsClient;
  readonly kinesis: import('@aws-sdk/client-kinesis').KinesisClient;
  /**
   * DynamoDB client for data-plane writes and reads of sinks and views, with the SDK's own retries
   * off: the TableIO retries, so the capacity governor hears of every throttled attempt.
   * Falls back to `dynamodb` when absent.
   */
  readonly dynamodbData?: import('@aws-sdk/client-dynamodb').DynamoDBClient;
}
