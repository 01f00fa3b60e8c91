import { TributaryError } from './errors.js';

/** What a DynamoDB stream carries with each change, as the table's StreamSpecification says. */
export type StreamViewType = 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'KEYS_ONLY';

/**
 * The item images a sink or pipeline reads from DynamoDB changes. The runner checks them at start
 * against the source's stream view type, so a stream that cannot carry them stops the app at once
 * instead of sending every record to the dead letters.
 *
 * @example
 * ```ts
 * pipeline('audit').from(orders).pipe(map(c => put(c.oldImage!))).with({ needs: { oldImage: true } }).to(sink)
 * ```
 */
export interface ImageNeeds {
  /** The item as it is after the change (inserts and modifies). */
  readonly newImage?: boolean;
  /** The item as it was before the change (modifies and removes). */
  readonly oldImage?: boolean;
}

const CARRIES: Record<StreamViewType, Required<ImageNeeds>> = {
  NEW_AND_OLD_IMAGES: { newImage: true, oldImage: true },
  NEW_IMAGE: { newImage: true, oldImage: false },
  OLD_IMAGE: { newImage: false, oldImage: true },
  KEYS_ONLY: { newImage: false, oldImage: false },
};

/** The images a reader of a stream of a given view type needs, as words. */
const describeNeeds = (n: ImageNeeds): string =>
  [n.oldImage && 'old', n.newImage && 'new'].filter(Boolean).join(' and ') + ' images';

/**
 * Throws `source.streamViewType` when a stream of `viewType` lacks an image that `needs` asks for.
 *
 * @example
 * ```ts
 * checkImageNeeds({ table: 'dev_orders', viewType: 'KEYS_ONLY', pipeline: 'by-customer', reader: "index view 'x'" }, { oldImage: true, newImage: true });
 * ```
 */
export function checkImageNeeds(
  at: { readonly table: string; readonly viewType: StreamViewType; readonly pipeline: string; readonly reader: string },
  needs: ImageNeeds | undefined,
): void {
  if (!needs) return;
  const carried = CARRIES[at.viewType];
  if ((!needs.newImage || carried.newImage) && (!needs.oldImage || carried.oldImage)) return;
  throw new TributaryError(
    'source.streamViewType',
    `pipeline '${at.pipeline}': table '${at.table}' streams ${at.viewType}, but ${at.reader} needs ${describeNeeds(needs)}` +
      ` (set the table's stream to ${needs.oldImage && needs.newImage ? 'NEW_AND_OLD_IMAGES' : needs.oldImage ? 'OLD_IMAGE or NEW_AND_OLD_IMAGES' : 'NEW_IMAGE or NEW_AND_OLD_IMAGES'})`,
    {
      details: {
        table: at.table,
        streamViewType: at.viewType,
        pipeline: at.pipeline,
        reader: at.reader,
        needs: { newImage: needs.newImage === true, oldImage: needs.oldImage === true },
      },
    },
  );
}
