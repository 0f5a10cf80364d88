import { DefaultNamingStrategy, Table, type NamingStrategyInterface } from 'typeorm';
import { createHash } from 'node:crypto';

const snake = (s: string): string =>
  s
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();

const tableOf = (t: Table | string): string => (typeof t === 'string' ? t : t.name).split('.').pop() as string;
const short = (text: string): string => createHash('sha1').update(text).digest('hex').slice(0, 8);

/** Trims a constraint name to PostgreSQL's 63-byte identifier limit while keeping it unique. */
function limit(name: string): string {
  return name.length <= 63 ? name : `${name.slice(0, 54)}_${short(name)}`;
}

/**
 * snake_case columns and readable, deterministic constraint names (`pk_users`, `fk_events_president_id`,
 * `idx_assignments_event_id_role`): migrations and error messages stay legible.
 */
export class SnakeNamingStrategy extends DefaultNamingStrategy implements NamingStrategyInterface {
  override tableName(targetName: string, userSpecifiedName: string | undefined): string {
    return userSpecifiedName ?? snake(targetName);
  }
  override columnName(propertyName: string, customName: string | undefined, prefixes: string[]): string {
    return snake(prefixes.concat(customName ?? propertyName).join('_'));
  }
  override relationName(propertyName: string): string {
    return snake(propertyName);
  }
  override joinColumnName(relationName: string, referencedColumnName: string): string {
    return snake(`${relationName}_${referencedColumnName}`);
  }
  override joinTableName(first: string, second: string, firstProperty: string): string {
    return snake(`${first}_${firstProperty.replace(/\./g, '_')}_${second}`);
  }
  override joinTableColumnName(tableName: string, propertyName: string, columnName?: string): string {
    return snake(`${tableName}_${columnName ?? propertyName}`);
  }
  override primaryKeyName(table: Table | string): string {
    return limit(`pk_${tableOf(table)}`);
  }
  override uniqueConstraintName(table: Table | string, columns: string[]): string {
    return limit(`uq_${tableOf(table)}_${columns.join('_')}`);
  }
  override relationConstraintName(table: Table | string, columns: string[]): string {
    return limit(`rel_${tableOf(table)}_${columns.join('_')}`);
  }
  override defaultConstraintName(table: Table | string, column: string): string {
    return limit(`df_${tableOf(table)}_${column}`);
  }
  override foreignKeyName(table: Table | string, columns: string[]): string {
    return limit(`fk_${tableOf(table)}_${columns.join('_')}`);
  }
  override indexName(table: Table | string, columns: string[], where?: string): string {
    return limit(`idx_${tableOf(table)}_${columns.join('_')}${where ? `_${short(where)}` : ''}`);
  }
  override checkConstraintName(table: Table | string, expression: string, isEnum?: boolean): string {
    return limit(`chk_${tableOf(table)}_${isEnum ? 'enum_' : ''}${short(expression)}`);
  }
  override exclusionConstraintName(table: Table | string, expression: string): string {
    return limit(`ex_${tableOf(table)}_${short(expression)}`);
  }
}
