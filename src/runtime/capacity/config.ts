/**
 * The capacity a sink table may use. By default a table's provisioned capacity (base table and
 * every GSI, the smallest wins since each write lands on all of them); on-demand tables have no
 * budget unless one is set here.
 *
 * @example
 * ```ts
 * new Runner(app, { capacity: { page_clicks: { share: 0.8 }, mirror: { writeRate: 25 } } });
 * ```
 */
export interface CapacityConfig {
  /** Write units per second to allow: required for on-demand tables, a cap on provisioned ones. */
  readonly writeRate?: number;
  /** Read units per second to allow (view reads: BatchGetItem, replay queries). */
  readonly readRate?: number;
  /** Share of the provisioned capacity to use, in (0, 1]. Default 1. */
  readonly share?: number;
  /**
   * Seconds of unused capacity a burst may spend. DynamoDB keeps at most 300 s of unused capacity
   * for bursts; the governor never allows more than that. Default 1.
   */
  readonly burstSeconds?: number;
  /** How often the table's provisioned capacity is read again (UpdateTable is picked up). Default 30,000 ms. */
  readonly refreshMs?: number;
}

export const DYNAMODB_BURST_SECONDS = 300;
