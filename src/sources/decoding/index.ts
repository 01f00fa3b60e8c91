export { decodePage, rawText, type DecodeResult, type Decoder } from './decoder.js';
export { parseJsonPage } from './json-page.js';
export { bytes, json, standardSchema, text } from './json.js';
export {
  aggregate,
  deaggregate,
  isAggregated,
  type DeaggregateResult,
  type RawKinesisRecord,
  type UserRecord,
} from './kpl.js';
