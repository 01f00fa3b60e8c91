import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OutputTail } from '../../src/testing/output-tail.js';

describe('OutputTail', () => {
  it('keeps the last lines of several streams in order, with a line not yet ended', async () => {
    const tail = new OutputTail(3);
    const out = new PassThrough();
    const err = new PassThrough();
    tail.follow(out);
    tail.follow(err);
    out.write('one\ntw');
    out.write('o\nthree\r\n');
    err.write('four\nfive\n');
    err.write('half');
    await new Promise((r) => setImmediate(r));
    expect(tail.text()).toBe('three\nfour\nfive\nhalf');
  });

  it('keeps fewer lines than its size as they came', () => {
    const tail = new OutputTail(40);
    tail.push('a');
    tail.push('b');
    expect(tail.text()).toBe('a\nb');
  });
});
