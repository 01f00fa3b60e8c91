import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  isStorableNumber,
  isStorableNumberText,
  keyProblem,
  keyRules,
  MAX_PARTITION_KEY_BYTES,
  MAX_SORT_KEY_BYTES,
  utf8Bytes,
  wireKeyProblem,
  type KeyRule,
} from '../../src/core/key-rules.js';

const pk = (type?: 'S' | 'N' | 'B'): KeyRule => ({ name: 'k', role: 'partition', ...(type ? { type } : {}) });
const sk = (type?: 'S' | 'N' | 'B'): KeyRule => ({ name: 'k', role: 'sort', ...(type ? { type } : {}) });

/** Checks a plain value, and that its marshalled form passes or fails the same way. */
function problem(rule: KeyRule, v: unknown): string | undefined {
  const plain = keyProblem(rule, v);
  const wire = marshall({ v }, { allowImpreciseNumbers: true }).v;
  expect(wireKeyProblem(rule, wire) === undefined, 'the wire form agrees').toBe(plain === undefined);
  return plain;
}

describe('DynamoDB key rules', () => {
  it('accepts strings, numbers, bigints and binaries of the declared type', () => {
    expect(problem(pk('S'), 'x')).toBeUndefined();
    expect(problem(pk('N'), 5)).toBeUndefined();
    expect(problem(pk('N'), -0.25)).toBeUndefined();
    expect(problem(pk('N'), 0)).toBeUndefined();
    expect(problem(pk('N'), 12345678901234567890123456789012345678n)).toBeUndefined();
    expect(problem(pk('B'), Uint8Array.of(1))).toBeUndefined();
    expect(problem(pk(), 'x')).toBeUndefined();
    expect(problem(pk(), 7n)).toBeUndefined();
  });

  it('refuses a missing attribute', () => {
    expect(keyProblem(pk('S'), undefined)).toBe("key attribute 'k' is missing");
    expect(wireKeyProblem(pk('S'), undefined)).toBe("key attribute 'k' is missing");
  });

  it('refuses values that are not S, N or B, naming what they are', () => {
    expect(keyProblem(pk(), null)).toMatch(
      /is null; a key attribute must be a non-empty string, a number or non-empty/,
    );
    expect(keyProblem(pk(), { id: 1 })).toMatch(/is an object;/);
    expect(keyProblem(pk(), ['a'])).toMatch(/is an array;/);
    expect(keyProblem(pk(), true)).toMatch(/is a boolean \(true\);/);
    expect(keyProblem(pk(), new Set(['a']))).toMatch(/is a set;/);
    expect(wireKeyProblem(pk(), { BOOL: true })).toMatch(/is of type BOOL;/);
    expect(wireKeyProblem(pk(), { SS: ['a'] })).toMatch(/is of type SS;/);
    expect(wireKeyProblem(pk(), { NULL: true })).toMatch(/is of type NULL;/);
  });

  it('refuses empty strings and empty binaries', () => {
    expect(problem(pk('S'), '')).toMatch(/is an empty string;/);
    expect(problem(sk(), '')).toMatch(/is an empty string;/);
    expect(problem(pk('B'), new Uint8Array(0))).toMatch(/is empty binary;/);
    expect(problem({ name: 'k' }, '')).toMatch(/is an empty string;/);
  });

  it('refuses a value of another type than the declared one, naming who declared it', () => {
    expect(keyProblem(pk('S'), 7, 'view')).toBe(
      "key attribute 'k' is a number but the view declares it as S (a string)",
    );
    expect(problem(pk('N'), '7')).toBe("key attribute 'k' is a string but the table declares it as N (a number)");
    expect(problem(pk('B'), 'x')).toMatch(/is a string but the table declares it as B \(binary\)/);
    expect(problem(pk('S'), 7n)).toMatch(/is a number but the table declares it as S/);
    expect(problem(pk('S'), Uint8Array.of(1))).toMatch(/is binary but the table declares it as S/);
  });

  it('limits a partition key to 2,048 bytes and a sort key to 1,024, strings counted in UTF-8', () => {
    expect(MAX_PARTITION_KEY_BYTES).toBe(2048);
    expect(MAX_SORT_KEY_BYTES).toBe(1024);
    expect(problem(pk('S'), 'x'.repeat(2048))).toBeUndefined();
    expect(problem(pk('S'), 'x'.repeat(2049))).toBe(
      "key attribute 'k' is 2049 bytes; DynamoDB allows at most 2048 bytes in a partition key",
    );
    expect(problem(sk('S'), 'x'.repeat(1024))).toBeUndefined();
    expect(problem(sk('S'), 'x'.repeat(1025))).toMatch(
      /is 1025 bytes; DynamoDB allows at most 1024 bytes in a sort key/,
    );
    // 'é' is one UTF-16 code unit and two UTF-8 bytes; '€' three; '😀' two code units and four bytes.
    expect(utf8Bytes('é€😀')).toBe(9);
    expect(problem(sk('S'), 'é'.repeat(512))).toBeUndefined();
    expect(problem(sk('S'), 'é'.repeat(513))).toMatch(/is 1026 bytes/);
    expect(problem(pk('S'), '€'.repeat(682) + 'xx')).toBeUndefined();
    expect(problem(pk('S'), '€'.repeat(683))).toMatch(/is 2049 bytes/);
    expect(problem(sk('S'), '😀'.repeat(256))).toBeUndefined();
    expect(problem(sk('S'), '😀'.repeat(256) + 'x')).toMatch(/is 1025 bytes/);
    expect(problem(pk('B'), new Uint8Array(2048))).toBeUndefined();
    expect(problem(pk('B'), new Uint8Array(2049))).toMatch(/is 2049 bytes/);
    expect(problem(sk('B'), new Uint8Array(1025))).toMatch(/is 1025 bytes; .* sort key/);
    // An attribute whose role is not known (a GSI key of an index view, say) has no size check.
    expect(problem({ name: 'k', type: 'S' }, 'x'.repeat(5000))).toBeUndefined();
  });

  it('accepts only numbers DynamoDB can store: finite, magnitude 1e-130 to below 1e126, 38 significant digits', () => {
    expect(problem(pk('N'), 1e125)).toBeUndefined();
    expect(problem(pk('N'), -1e-130)).toBeUndefined();
    expect(keyProblem(pk('N'), 1e126)).toMatch(/is 1e\+126, a number DynamoDB cannot store/);
    expect(keyProblem(pk('N'), 1e-131)).toMatch(/cannot store/);
    expect(keyProblem(pk('N'), Number.NaN)).toMatch(/is NaN, a number DynamoDB cannot store/);
    expect(keyProblem(pk('N'), Number.POSITIVE_INFINITY)).toMatch(/is Infinity, a number/);
    expect(problem(pk('N'), BigInt('9'.repeat(38)))).toBeUndefined();
    expect(problem(pk('N'), BigInt('1'.repeat(39)))).toMatch(/is 1{39}n, a number DynamoDB cannot store/);
    // Trailing zeros are not significant digits: 10^125 has one.
    expect(problem(pk('N'), 10n ** 125n)).toBeUndefined();
    expect(problem(pk('N'), 10n ** 126n)).toMatch(/cannot store/);
    expect(problem(pk('N'), -(10n ** 125n))).toBeUndefined();
  });

  it('reads numbers on the wire as DynamoDB does', () => {
    for (const ok of ['0', '-0', '0.000', '7', '+7', '-1.5', '1.50', '1e-130', '9.9e125', '.5', '5.', '1E+10'])
      expect(isStorableNumberText(ok), ok).toBe(true);
    for (const bad of ['', '.', '-', 'e5', '1e126', '1e-131', 'NaN', 'Infinity', '0x10', '1 ', '1'.repeat(39)])
      expect(isStorableNumberText(bad), bad).toBe(false);
    expect(isStorableNumberText('0.' + '0'.repeat(100) + '1'.repeat(38))).toBe(true);
    expect(isStorableNumberText('1'.repeat(38) + '0'.repeat(80))).toBe(true);
    expect(wireKeyProblem(pk('N'), { N: '1e126' })).toMatch(/is 1e126, a number DynamoDB cannot store/);
    expect(isStorableNumber(0)).toBe(true);
    expect(isStorableNumber(-1e125)).toBe(true);
    expect(isStorableNumber(Number.NaN)).toBe(false);
  });

  it('gives a table key its roles: partition key first, then sort key', () => {
    expect(keyRules({ name: 'p', type: 'S' }, { name: 's', type: 'N' })).toEqual([
      { name: 'p', type: 'S', role: 'partition' },
      { name: 's', type: 'N', role: 'sort' },
    ]);
    expect(keyRules({ name: 'p', type: 'B' })).toEqual([{ name: 'p', type: 'B', role: 'partition' }]);
  });
});
