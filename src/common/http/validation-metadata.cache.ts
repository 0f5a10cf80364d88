import { getMetadataStorage } from 'class-validator';

type Storage = ReturnType<typeof getMetadataStorage>;
type Lookup = Storage['getTargetValidationMetadatas'];
type Metadatas = ReturnType<Lookup>;
type Grouped = ReturnType<Storage['groupByPropertyName']>;

const cached = new WeakSet<Storage>();

/**
 * class-validator looks up a class's rules on every validation, by walking every decorated class of the app
 * (`instanceof` for inheritance) and filtering their rules: about a tenth of a door scan's CPU in the server. The
 * rules are declared by decorators when the classes load, so the answer for a class never changes afterwards: this
 * keeps it, per class and options, and forgets everything whenever a rule or a schema is added. Validation itself is
 * unchanged (same rules, same order, same errors); the answers are only read by class-validator.
 */
export function cacheValidationMetadata(storage: Storage = getMetadataStorage()): void {
  if (cached.has(storage)) return;
  cached.add(storage);
  let byTarget = new Map<unknown, Map<string, Metadatas>>();
  let grouped = new WeakMap<Metadatas, Grouped>();
  const forget = <A extends unknown[]>(add: (...args: A) => void) =>
    function (this: Storage, ...args: A): void {
      byTarget = new Map();
      grouped = new WeakMap();
      add.apply(this, args);
    };
  storage.addValidationMetadata = forget(storage.addValidationMetadata);
  storage.addConstraintMetadata = forget(storage.addConstraintMetadata);
  storage.addValidationSchema = forget(storage.addValidationSchema);

  const lookup = storage.getTargetValidationMetadatas;
  storage.getTargetValidationMetadatas = function (this: Storage, target, schema, always, strictGroups, groups) {
    const key = JSON.stringify([schema, always, strictGroups, groups ?? null]);
    let forTarget = byTarget.get(target);
    if (!forTarget) byTarget.set(target, (forTarget = new Map()));
    let answer = forTarget.get(key);
    if (!answer) forTarget.set(key, (answer = lookup.call(this, target, schema, always, strictGroups, groups)));
    return answer;
  };
  const group = storage.groupByPropertyName;
  storage.groupByPropertyName = function (this: Storage, metadatas) {
    let answer = grouped.get(metadatas);
    if (!answer) grouped.set(metadatas, (answer = group.call(this, metadatas)));
    return answer;
  };
}
