import { describe, expect, it } from 'vitest';
import { checkImageNeeds, type StreamViewType } from '../../src/core/images.js';
import { indexView, mirror } from '../../src/index.js';

const at = (viewType: StreamViewType) => ({ table: 't', viewType, pipeline: 'p', reader: "sink 's'" });

describe('image needs', () => {
  it('passes exactly the view types that carry every image asked for', () => {
    const passes = (viewType: StreamViewType, needs: { newImage?: boolean; oldImage?: boolean }) => {
      try {
        checkImageNeeds(at(viewType), needs);
        return true;
      } catch (e) {
        expect(e).toMatchObject({ code: 'source.streamViewType', details: { streamViewType: viewType } });
        return false;
      }
    };
    const types = ['NEW_AND_OLD_IMAGES', 'NEW_IMAGE', 'OLD_IMAGE', 'KEYS_ONLY'] as const;
    expect(types.map((t) => passes(t, { newImage: true, oldImage: true }))).toEqual([true, false, false, false]);
    expect(types.map((t) => passes(t, { newImage: true }))).toEqual([true, true, false, false]);
    expect(types.map((t) => passes(t, { oldImage: true }))).toEqual([true, false, true, false]);
    expect(types.map((t) => passes(t, {}))).toEqual([true, true, true, true]);
  });

  it('views declare the images they read', () => {
    const key = { name: 'id', type: 'S' } as const;
    expect(indexView({ table: 'x', partitionKey: key, key: (r: { id: string }) => ({ id: r.id }) }).needs).toEqual({
      oldImage: true,
      newImage: true,
    });
    expect(mirror({ tables: 'm', partitionKey: key }).needs).toEqual({ newImage: true, oldImage: false });
    expect(mirror({ tables: 'm', partitionKey: key, version: { attribute: 'v' } }).needs).toEqual({
      newImage: true,
      oldImage: true,
    });
  });
});
