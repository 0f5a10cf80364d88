import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { link, mkdir, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { MultipartFile } from '@fastify/multipart';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppException, ErrorCode, notFound, validationFailed } from '../../common/errors/app.exception';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { detectFileType, FILE_TYPES, type FileCategory, type FileType } from './file-types';

/** Bytes needed to recognise every accepted type (WebP: `RIFF????WEBP`). */
const SNIFF_BYTES = 12;

/** What may be stored: a generated name only, so a value read back from the database cannot escape the folder. */
const STORED_NAME = /^([a-z]+)-[0-9a-f]{16}\.([a-z]+)$/;

export interface StoredFile {
  name: string;
  type: FileType;
  size: number;
}

export interface OpenedFile {
  stream: ReadStream;
  type: FileType;
  size: number;
}

/**
 * Counts bytes and keeps the first few for type detection. Once the head is known to be of a refused type, the rest
 * is still read (the request must be consumed) but no longer written to disk.
 */
class SniffingCounter extends Transform {
  size = 0;
  overLimit = false;
  private refused = false;
  private head = Buffer.alloc(0);

  constructor(
    private readonly maxBytes: number,
    private readonly category: FileCategory,
  ) {
    super();
  }

  get header(): Buffer {
    return this.head;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.head.length < SNIFF_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, SNIFF_BYTES - this.head.length)]);
      if (this.head.length === SNIFF_BYTES) this.refused = detectFileType(this.head)?.category !== this.category;
    }
    if (this.size > this.maxBytes) {
      this.overLimit = true;
      return done(tooLarge(this.maxBytes));
    }
    done(null, this.refused ? undefined : chunk);
  }
}

function tooLarge(maxBytes: number): AppException {
  return new AppException(
    HttpStatus.PAYLOAD_TOO_LARGE,
    ErrorCode.PAYLOAD_TOO_LARGE,
    `File is larger than ${Math.floor(maxBytes / (1024 * 1024))} MB`,
  );
}

/** Uploaded files on the local disk, under `UPLOAD_DIR/events/<eventId>/`. */
@Injectable()
export class FilesService {
  private readonly root: string;
  readonly maxBytes: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.root = resolve(config.uploadDir);
    this.maxBytes = config.maxUploadMb * 1024 * 1024;
  }

  /**
   * Streams an upload to `<prefix>-<random>.<ext>` in the event's folder. The type is decided by the content's magic
   * bytes, never by the client's name or declared type. On any failure (too large, wrong type, empty, aborted) the
   * partial file is removed.
   * @param truncated tells whether the multipart parser cut the stream at its own size limit.
   */
  async save(
    eventId: string,
    prefix: string,
    category: FileCategory,
    source: Readable,
    truncated: () => boolean,
  ): Promise<StoredFile> {
    const dir = this.eventDir(eventId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const base = `${prefix}-${randomBytes(8).toString('hex')}`;
    const partial = join(dir, `${base}.part`);
    const counter = new SniffingCounter(this.maxBytes, category);
    try {
      await pipeline(source, counter, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
      if (truncated()) throw tooLarge(this.maxBytes);
      if (counter.size === 0) throw validationFailed({ file: ['The file is empty'] });
      const type = detectFileType(counter.header);
      if (!type || type.category !== category) throw validationFailed({ file: [refusal(category)] });
      const name = `${base}.${type.ext}`;
      await renameNoReplace(partial, join(dir, name));
      return { name, type, size: counter.size };
    } catch (error) {
      await unlink(partial).catch(() => undefined);
      // A limit hit by our counter surfaces as the pipeline's error; anything else from a truncated stream is too.
      if (counter.overLimit || truncated()) throw tooLarge(this.maxBytes);
      throw error;
    }
  }

  /**
   * The one file part of a multipart upload (field `file`), not yet read. Not multipart → 415; no `file` part → 400.
   * Whoever takes it must read it to its end (or `discardPart` it), or the request never completes.
   */
  async uploadPart(request: FastifyRequest): Promise<MultipartFile> {
    if (!request.isMultipart()) {
      throw new AppException(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        'Send the file as multipart/form-data',
      );
    }
    const part = await request.file();
    if (!part || part.fieldname !== 'file') {
      if (part) await discardPart(part);
      throw validationFailed({ file: ['Required: one file in the multipart field "file"'] });
    }
    return part;
  }

  /** The file of a multipart upload, saved like `save`. */
  async saveUpload(
    eventId: string,
    prefix: string,
    category: FileCategory,
    request: FastifyRequest,
  ): Promise<StoredFile> {
    const part = await this.uploadPart(request);
    return this.save(eventId, prefix, category, part.file, () => part.file.truncated);
  }

  /** 413 in the documented shape, for uploads that readers other than `save` find cut at the size limit. */
  tooLarge(): AppException {
    return tooLarge(this.maxBytes);
  }

  /**
   * Records a stored file's name in `table.column` of one row and deletes the file it replaced. The swap is one
   * statement, so two concurrent uploads each remove the name they actually replaced: no file is orphaned or deleted
   * while still referenced. `table` and `column` are code constants, never input. No such row → 404 `what`.
   */
  async replaceIn(
    target: { table: string; column: string; where: string; params: unknown[]; what: string },
    eventId: string,
    stored: StoredFile,
  ): Promise<void> {
    const n = target.params.length;
    let rows: { previous: string | null }[];
    try {
      rows = await this.dataSource.query(
        // A SELECT around the UPDATE so the driver returns plain rows.
        `WITH old AS (SELECT id, ${target.column} AS previous FROM ${target.table} WHERE ${target.where} FOR UPDATE),
              changed AS (UPDATE ${target.table} t SET ${target.column} = $${n + 1}, updated_at = now() FROM old
                          WHERE t.id = old.id RETURNING old.previous)
         SELECT previous FROM changed`,
        [...target.params, stored.name],
      );
    } catch (error) {
      await this.remove(eventId, stored.name);
      throw error;
    }
    if (rows.length === 0) {
      await this.remove(eventId, stored.name);
      throw notFound(target.what);
    }
    const previous = rows[0]?.previous ?? null;
    // The old file goes only once the new one is saved and recorded.
    if (previous !== stored.name) await this.remove(eventId, previous);
  }

  /** A stored file for download, or null when the name is unknown or the file is gone. */
  async open(eventId: string, name: string | null): Promise<OpenedFile | null> {
    const path = this.pathOf(eventId, name);
    if (!path) return null;
    const type = FILE_TYPES.find((t) => t.ext === STORED_NAME.exec(name as string)?.[2]);
    if (!type) return null;
    try {
      const info = await stat(path);
      if (!info.isFile()) return null;
      return { stream: createReadStream(path), type, size: info.size };
    } catch {
      return null;
    }
  }

  /** Best effort: a file left behind is garbage on disk, not a wrong answer. */
  async remove(eventId: string, name: string | null): Promise<void> {
    const path = this.pathOf(eventId, name);
    if (path) await unlink(path).catch(() => undefined);
  }

  async removeEvent(eventId: string): Promise<void> {
    await rm(this.eventDir(eventId), { recursive: true, force: true });
  }

  private eventDir(eventId: string): string {
    // The id is a UUID checked by the route; lower-cased so one event has one folder.
    return join(this.root, 'events', eventId.toLowerCase());
  }

  private pathOf(eventId: string, name: string | null): string | null {
    if (!name || !STORED_NAME.test(name)) return null;
    return join(this.eventDir(eventId), name);
  }
}

function refusal(category: FileCategory): string {
  return category === 'pdf' ? 'Must be a PDF document' : 'Must be a PNG, JPEG or WebP image';
}

/**
 * A part that is not accepted is still read to its end, so the request completes normally. It is first detached from
 * a reader that gave up on it (a CSV parser stopped at a bad header would otherwise pause it again when it closes),
 * and `finished` also settles for a part that already ended (a small file read whole): either way, waiting for an
 * `end` that never comes would hang the request forever.
 */
export async function discardPart(part: MultipartFile): Promise<void> {
  part.file.unpipe();
  part.file.resume();
  await finished(part.file).catch(() => undefined);
}

/** The generated name is random, so a clash is practically impossible; `link` refuses one rather than overwrite. */
async function renameNoReplace(from: string, to: string): Promise<void> {
  await link(from, to);
  await unlink(from);
}
