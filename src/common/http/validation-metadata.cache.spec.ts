import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, IsInt, IsOptional, IsString, Max, validateSync } from 'class-validator';
import { cacheValidationMetadata } from './validation-metadata.cache';

class Base {
  @IsString()
  name!: string;
}

class Child extends Base {
  @IsInt()
  @Max(10)
  count!: number;
}

const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true };
const errorsOf = (cls: new () => object, body: object) =>
  validateSync(plainToInstance(cls, body), OPTIONS).map((e) => [e.property, Object.keys(e.constraints ?? {}).sort()]);

describe('cacheValidationMetadata', () => {
  const cases: [new () => object, object][] = [
    [Child, { name: 'a', count: 3 }],
    [Child, { name: 1, count: 11, extra: true }],
    [Child, { count: 'x' }],
    [Base, { name: 'a', count: 3 }],
    [Base, {}],
  ];

  it('gives the same errors as without it, inherited rules included, and looks each class up once', () => {
    const before = cases.map(([cls, body]) => errorsOf(cls, body));
    assert.ok(
      before.some((e) => e.length > 0),
      'the cases do fail somewhere',
    );
    const storage = getMetadataStorage();
    const lookup = storage.getTargetValidationMetadatas;
    cacheValidationMetadata();
    cacheValidationMetadata(); // a second app in the same process: no second layer
    let lookups = 0;
    const cachedLookup = storage.getTargetValidationMetadatas;
    assert.notEqual(cachedLookup, lookup, 'the lookup is wrapped');
    // Count the real lookups under the cache by spying on what it calls: call it twice per case.
    const seen = new Set<unknown>();
    storage.getTargetValidationMetadatas = function (this: typeof storage, ...args) {
      const answer = cachedLookup.apply(this, args);
      if (!seen.has(answer)) lookups += 1;
      seen.add(answer);
      return answer;
    };
    try {
      for (let round = 0; round < 3; round++) {
        assert.deepEqual(
          cases.map(([cls, body]) => errorsOf(cls, body)),
          before,
        );
      }
    } finally {
      storage.getTargetValidationMetadatas = cachedLookup;
    }
    assert.equal(lookups, 2, 'one answer per class (Child, Base), kept across validations');
  });

  it('forgets its answers when a rule is added, so a rule declared later still applies', () => {
    cacheValidationMetadata();
    class Late {
      @IsOptional()
      @IsString()
      note?: string;
    }
    assert.deepEqual(errorsOf(Late, { note: 'x' }), []);
    assert.deepEqual(errorsOf(Child, { name: 'a', count: 3 }), []);
    // A rule added to an already validated class (what a decorator does when its class loads).
    IsInt()(Child.prototype, 'rank');
    assert.deepEqual(errorsOf(Child, { name: 'a', count: 3, rank: 'high' }), [['rank', ['isInt']]]);
  });
});
