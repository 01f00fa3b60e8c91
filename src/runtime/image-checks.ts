import { checkImageNeeds } from '../core/images.js';
import type { SourceGroup } from './source-groups.js';

/**
 * Checks, once a source is bound, that its stream carries the images each of its pipelines needs:
 * the pipeline's own `needs` and its sinks'. A DynamoDB stream of the wrong view type would send
 * every record to the dead letters; `source.streamViewType` stops the app at start instead.
 * Sources without a DynamoDB stream (Kinesis, replays) are not checked.
 */
export function checkGroupImages(g: SourceGroup): void {
  const stream = g.bound?.stream;
  if (!stream) return;
  for (const p of g.pipelines) {
    const at = { ...stream, pipeline: p.name };
    checkImageNeeds({ ...at, reader: 'the pipeline' }, p.options.needs);
    for (const s of p.sinks) checkImageNeeds({ ...at, reader: `sink '${s.name}'` }, s.needs);
  }
}
