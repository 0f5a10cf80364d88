import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { link, mkdir, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { AppException, ErrorCode, validationFailed } from '../../common/errors/app.exception';
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

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
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

/** The generated name is random, so a clash is practically impossible; `link` refuses one rather than overwrite. */
async function renameNoReplace(from: string, to: string): Promise<void> {
  await link(from, to);
  await unlink(from);
}
