import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { CsvError, parse } from 'csv-parse';
import { isEmail } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { isEventRole, type EventRole } from '../../common/auth/event-role';
import { validationFailed } from '../../common/errors/app.exception';
import { DomainEvents } from '../../common/events/domain-events';
import { AssignmentsService } from '../assignments/assignments.service';
import { discardPart, FilesService } from '../files/files.service';
import { normalizeEmail, UsersService } from '../users/users.service';
import { BadgeIssuer } from './badge-issuer';
import type { ImportErrorDto, ImportResultDto } from './dto/participant.dto';

/** Data lines accepted in one file (the header is not counted). */
export const MAX_IMPORT_LINES = 10_000;
const BATCH = 1_000;
const COLUMNS = ['email', 'first_name', 'last_name', 'role'] as const;
type Column = (typeof COLUMNS)[number];

export interface ImportLine {
  line: number;
  email: string;
  firstName: string;
  lastName: string;
  role: EventRole | null;
}

export interface ParsedImport {
  lines: ImportLine[];
  errors: ImportErrorDto[];
}

/**
 * Checks one data line (cells already mapped to the header's columns). Pure, so that the rules are unit-tested:
 * a valid email, names of at most 150 characters, an optional known role.
 */
export function checkLine(line: number, cells: Partial<Record<Column, string>>): ImportLine | ImportErrorDto {
  const email = normalizeEmail(cells.email ?? '');
  if (!email) return { line, detail: 'email is required' };
  if (email.length > 254 || !isEmail(email)) return { line, detail: `"${truncate(email)}" is not an email` };
  const firstName = (cells.first_name ?? '').trim();
  const lastName = (cells.last_name ?? '').trim();
  if (firstName.length > 150 || lastName.length > 150) return { line, detail: 'names are limited to 150 characters' };
  // A NUL byte cannot be stored at all: one such cell failed the whole import with a 400 naming no line.
  if (CONTROL.test(firstName) || CONTROL.test(lastName))
    return { line, detail: 'names must not contain control characters' };
  const roleText = (cells.role ?? '').trim().toLowerCase();
  if (roleText !== '' && !isEventRole(roleText)) return { line, detail: `unknown role "${truncate(roleText)}"` };
  return { line, email, firstName, lastName, role: roleText === '' ? null : (roleText as EventRole) };
}

/** C0 controls and DEL; tab and line breaks inside a quoted cell are left to the names' own trimming. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * `POST /api/participants/import/`: a CSV with the header `email,first_name,last_name,role` (role optional). The file
 * is parsed as it streams in and checked line by line; then, in one transaction, the good lines are applied in
 * batches of set-based statements: accounts created or found by email, people added to the event (or their role
 * updated), badges issued. Idempotent: importing the same file again creates nothing.
 */
@Injectable()
export class ParticipantsImportService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly files: FilesService,
    private readonly users: UsersService,
    private readonly assignments: AssignmentsService,
    private readonly issuer: BadgeIssuer,
    private readonly events: DomainEvents,
  ) {}

  async import(eventId: string, request: FastifyRequest, caller: AuthContext): Promise<ImportResultDto> {
    const part = await this.files.uploadPart(request);
    let parsed: ParsedImport;
    try {
      parsed = await parseImport(part.file);
    } catch (error) {
      await discardPart(part);
      if (part.file.truncated) throw this.files.tooLarge();
      throw error;
    }
    if (part.file.truncated) throw this.files.tooLarge();

    const errors = [...parsed.errors];
    const me = await this.users.getById(caller.userId);
    let created = 0;
    let updated = 0;
    // Applied in email order, not file order: concurrent imports naming the same people then lock their accounts,
    // memberships and badges in the same order, so one waits for the other instead of deadlocking with it.
    const lines = [...parsed.lines].sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
    const roleChanged = new Map<string, EventRole>();
    await this.dataSource.transaction(async (manager) => {
      for (let i = 0; i < lines.length; i += BATCH) {
        const batch = lines.slice(i, i + BATCH);
        const ids = await this.users.upsertUnclaimed(manager, eventId, batch);
        const members = batch.map((l) => ({
          userId: ids.get(l.email) as string,
          // Nobody changes their own role by import, as with PATCH.
          role: l.email === me.email ? null : l.role,
        }));
        const { added, changed, roles } = await this.assignments.importMembers(
          manager,
          eventId,
          members,
          caller.userId,
        );
        for (const userId of changed) roleChanged.set(userId, roles.get(userId) as EventRole);
        await this.issuer.ensure(
          manager,
          eventId,
          members.map((m) => m.userId),
        );
        for (const line of batch) {
          const userId = ids.get(line.email) as string;
          const role = roles.get(userId);
          if (added.has(userId)) created += 1;
          else if (line.role !== null && role !== line.role) {
            errors.push({
              line: line.line,
              detail: `role not changed: ${line.email} is ${role} (change organisateurs and your own role in user-assignments)`,
            });
          } else updated += 1;
        }
      }
    });
    for (const [userId, role] of roleChanged)
      await this.events.publish('membership.changed', { eventId, userId, role });
    errors.sort((a, b) => a.line - b.line);
    return { created, updated, errors };
  }
}

/** Reads the CSV stream into checked lines; a file that cannot be read as CSV at all is a 400 with nothing written. */
export async function parseImport(source: NodeJS.ReadableStream): Promise<ParsedImport> {
  const parser = source.pipe(
    parse({
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      max_record_size: 64 * 1024,
      info: true,
    }),
  );
  const lines: ImportLine[] = [];
  const errors: ImportErrorDto[] = [];
  const firstLine = new Map<string, number>();
  let header: (Column | null)[] | null = null;
  let count = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (header === null) {
        header = readHeader(record);
        continue;
      }
      count += 1;
      if (count > MAX_IMPORT_LINES) {
        throw validationFailed({ file: [`At most ${MAX_IMPORT_LINES} lines per file (split the file)`] });
      }
      if (record.length !== header.length) {
        errors.push({ line: info.lines, detail: `expected ${header.length} columns, found ${record.length}` });
        continue;
      }
      const cells: Partial<Record<Column, string>> = {};
      header.forEach((column, i) => {
        if (column) cells[column] = record[i];
      });
      const checked = checkLine(info.lines, cells);
      if (!('email' in checked)) {
        errors.push(checked);
        continue;
      }
      const first = firstLine.get(checked.email);
      if (first !== undefined) {
        errors.push({ line: checked.line, detail: `${checked.email} already appears on line ${first}` });
        continue;
      }
      firstLine.set(checked.email, checked.line);
      lines.push(checked);
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const where = (error as CsvError & { lines?: number }).lines;
      throw validationFailed({ file: [`Not a readable CSV${where ? ` (line ${where})` : ''}: ${error.message}`] });
    }
    throw error;
  }
  if (header === null) throw validationFailed({ file: ['The file is empty: expected the header line first'] });
  return { lines, errors };
}

function readHeader(record: string[]): Column[] {
  const names = record.map((name) => name.trim().toLowerCase());
  const unknown = names.filter((n) => !(COLUMNS as readonly string[]).includes(n));
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (!names.includes('email') || unknown.length > 0 || repeated.length > 0) {
    throw validationFailed({
      file: [`The header must be email,first_name,last_name,role (role optional); found: ${names.join(',')}`],
    });
  }
  return names as Column[];
}
