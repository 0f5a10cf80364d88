import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { conflict, forbidden, notFound } from '../../common/errors/app.exception';
import { DomainEvents } from '../../common/events/domain-events';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { qrHash } from '../participants/badge-codes';
import { AccessErrors } from './access.errors';
import type { EntranceScanDto, EntranceScanResultDto, ScanResultDto, VerifyAccessDto } from './dto/scan.dto';
import type { AccessDirection, AccessSource, AccessStatus } from './entities/room-access-log.entity';
import { MicroBatcher } from './micro-batcher';
import { WalFlushBarrier } from './wal-flush-barrier';

/** The arguments of `door_decide`, as one item of `door_decide_batch`. */
interface DoorArguments {
  event: string;
  room: string | null;
  qr_hash: string | null;
  participant: string | null;
  direction: AccessDirection;
  scanner: string;
  scanner_role: string | null;
  device: string | null;
  nonce: string | null;
  device_time: string | null;
  source: AccessSource;
  local: AccessStatus | null;
  override_status: AccessStatus | null;
  note: string | null;
}

type RawAnswer = DoorAnswer & { _error?: string };

/** At most this many scans per round trip, and this many round trips at once (more only queue in PostgreSQL). */
const DOOR_BATCH_MAX = 64;
const DOOR_BATCHES_IN_FLIGHT = 2;
/**
 * Offline uploads: scans per batch, one batch at a time for all uploads of this instance, beside the online ones. A
 * batch holds its badges' and rooms' locks until it commits (~45 ms for 32 here), so online scans at those rooms wait
 * at most that long.
 */
const OFFLINE_BATCH = 32;

/** A failure PostgreSQL reported (it has a SQLSTATE): the transaction was rolled back, so trying again is safe. */
function rolledBack(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** What `door_decide` is asked. Exactly one of `qrData` and `participantId` names the badge. */
export interface DoorCall {
  eventId: string;
  roomId: string | null;
  qrData?: string;
  participantId?: string;
  direction: AccessDirection;
  caller: AuthContext;
  deviceId?: string | null;
  nonce?: string | null;
  deviceTime?: Date | null;
  source: AccessSource;
  localDecision?: AccessStatus | null;
  /** Manual decisions: staff grant (rules 5 and 6 waived, never capacity) or refuse. */
  overrideStatus?: AccessStatus | null;
  note?: string | null;
}

/** The answer of `door_decide`: the public response plus `_` fields for the server. */
export type DoorAnswer = Record<string, unknown> & {
  status: AccessStatus;
  reason_code: string;
  access_id: string;
  _replayed: boolean;
  _conflict: boolean;
  /** The room a granted entry took the badge out of (implied exit). */
  _prev_room?: string | null;
};

const ROOM_FIELDS = [
  'status',
  'reason_code',
  'message',
  'duplicate',
  'participant',
  'room',
  'session',
  'access_id',
  'scanned_at',
];
const ENTRANCE_FIELDS = [
  'status',
  'reason_code',
  'message',
  'participant',
  'is_checked_in',
  'checked_in_at',
  'first_check_in',
  'paid_items',
  'duplicate',
  'access_id',
  'scanned_at',
];

/**
 * An offline scan whose nonce the device already used for another scan: not stored (the key is taken), reported as
 * refused and in conflict so that the app's operator sees it.
 */
function nonceReused(call: DoorCall): DoorAnswer {
  return {
    status: 'denied',
    reason_code: AccessErrors.NONCE_REUSED,
    access_id: '',
    nonce: call.nonce,
    _replayed: false,
    _conflict: true,
  };
}

/** A nonce without a device id is still idempotent: per calling user. */
function deviceOf(dto: { device_id?: string; nonce?: string }, caller: AuthContext): string | null {
  return dto.device_id ?? (dto.nonce !== undefined ? `user:${caller.userId}` : null);
}

const pick = <T>(answer: DoorAnswer, fields: string[]): T =>
  Object.fromEntries(fields.map((f) => [f, answer[f] ?? null])) as T;

/**
 * The door decision. All of it happens in the database (see the DoorsAccessLogAndAttendance migration and its
 * successors): one round trip and one short transaction per batch of scans, with every invariant (occupancy within
 * capacity, one answer per device and nonce, one check-in) enforced there. `door_decide` decides one scan;
 * `door_decide_batch` decides a batch in order, as a set (`door_decide_online`) when it is made only of online scans at
 * room doors, one `door_decide` after the other otherwise.
 */
@Injectable()
export class DoorService {
  private readonly durable: WalFlushBarrier;
  private readonly grace: string;
  private readonly conflictWindow: string;
  private readonly batcher: MicroBatcher<DoorArguments, RawAnswer>;
  private readonly logger = new Logger(DoorService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly events: DomainEvents,
  ) {
    this.durable = new WalFlushBarrier(dataSource);
    this.grace = `${config.doorGraceSec} seconds`;
    this.conflictWindow = `${config.offlineConflictWindowSec} seconds`;
    this.batcher = new MicroBatcher<DoorArguments, RawAnswer>({
      run: (items) => this.decideMany(items),
      retryAlone: rolledBack,
      onBatchFailed: (error, size) =>
        this.logger.warn(
          { err: (error as Error).message, size },
          'A batch of door decisions failed; deciding each scan alone',
        ),
      maxBatch: DOOR_BATCH_MAX,
      maxInFlight: DOOR_BATCHES_IN_FLIGHT,
      orderedBatch: OFFLINE_BATCH,
    });
  }

  /**
   * Scans that arrive while decisions are running are decided together (`door_decide_batch`: one statement, one
   * commit). Each is decided exactly as alone, in arrival order. Committed without waiting for the disk, then made
   * durable by the barrier before anyone is answered; replays too (the first answer may not be on disk yet).
   */
  private async decideMany(items: DoorArguments[]): Promise<RawAnswer[]> {
    const rows: { r: RawAnswer[] }[] = await this.dataSource.query(
      `SELECT door_decide_batch($1::jsonb, $2::interval, $3::interval) AS r,
              set_config('synchronous_commit', 'off', true)`,
      [JSON.stringify(items), this.grace, this.conflictWindow],
    );
    try {
      await this.durable.wait();
    } catch (error) {
      // Committed, but not known to be on disk: never decided again (it would come back as replays). No SQLSTATE.
      throw new Error(`door decisions committed, flush not confirmed: ${(error as Error).message}`, { cause: error });
    }
    return rows[0].r;
  }

  private argumentsOf(call: DoorCall): DoorArguments {
    return {
      event: call.eventId,
      room: call.roomId,
      // Scanners may add a newline or spaces; a QR text never contains whitespace.
      qr_hash: call.qrData === undefined ? null : qrHash(call.qrData.trim()),
      participant: call.participantId ?? null,
      direction: call.direction,
      scanner: call.caller.userId,
      scanner_role: call.caller.role,
      device: call.deviceId ?? null,
      nonce: call.nonce ?? null,
      device_time: call.deviceTime?.toISOString() ?? null,
      source: call.source,
      local: call.localDecision ?? null,
      override_status: call.overrideStatus ?? null,
      note: call.note ?? null,
    };
  }

  /** How many batches failed as a whole (each of their scans was then decided alone). */
  get failedBatches(): number {
    return this.batcher.failedBatches;
  }

  async decide(call: DoorCall): Promise<DoorAnswer> {
    return this.settled(call, await this.batcher.submit(this.argumentsOf(call)));
  }

  /**
   * Decides `calls` one after the other, as if each waited for the one before (offline uploads: the first scan by
   * device time must win), but in batches (OFFLINE_BATCH): a 500-scan upload is 16 round trips, not 500. Each
   * batch's decisions are published as soon as it is answered. The first call that throws (a room deleted meanwhile)
   * stops the rest after its batch; the scans decided before it, and the rest of its batch, are stored and published
   * (when a failed batch is run again one scan at a time, the run stops at that scan), so uploading the same scans
   * again completes the upload.
   */
  async decideInOrder(calls: DoorCall[]): Promise<DoorAnswer[]> {
    const answers: DoorAnswer[] = [];
    await this.batcher.runInOrder(
      calls.map((c) => this.argumentsOf(c)),
      (raw, i) => answers.push(this.settled(calls[i]!, raw)),
    );
    return answers;
  }

  /** One decision's answer, or its error; a new decision is published. */
  private settled(call: DoorCall, answer: RawAnswer): DoorAnswer {
    if (answer._error === 'ROOM_NOT_FOUND') throw notFound('Room');
    if (answer._error === 'FORBIDDEN') throw forbidden('You are not assigned to this room now');
    if (answer._error === 'NONCE_REUSED') {
      if (call.source === 'offline') return nonceReused(call);
      throw conflict(AccessErrors.NONCE_REUSED, 'This device already used this nonce for another scan');
    }
    if (!answer._replayed) this.published(call, answer);
    return answer;
  }

  /** Tells the rest of the server (live occupancy, staff screens) about a new decision, after it is committed. */
  private published(call: DoorCall, answer: DoorAnswer): void {
    const participant = answer.participant as { id: string; badge_id: string; full_name: string } | null;
    void this.events.publish('door.decided', {
      eventId: call.eventId,
      roomId: call.roomId,
      previousRoomId: answer._prev_room ?? null,
      accessId: answer.access_id,
      status: answer.status,
      reasonCode: answer.reason_code,
      direction: call.direction,
      source: call.source,
      participant: participant ?? null,
      sessionId: (answer.session as { id: string } | null)?.id ?? null,
      scannedAt: answer.scanned_at as string,
      scannedBy: call.caller.userId,
    });
  }

  /** `verify_access/` and `qr/verify/`. */
  async verify(eventId: string, roomId: string, dto: VerifyAccessDto, caller: AuthContext): Promise<ScanResultDto> {
    const answer = await this.decide({
      eventId,
      roomId,
      qrData: dto.qr_data,
      direction: dto.direction ?? 'in',
      caller,
      deviceId: deviceOf(dto, caller),
      nonce: dto.nonce,
      deviceTime: dto.scanned_at,
      source: 'online',
    });
    return pick<ScanResultDto>(answer, ROOM_FIELDS);
  }

  /** `POST /api/participants/scan/`: the entrance check-in, no room. */
  async entrance(eventId: string, dto: EntranceScanDto, caller: AuthContext): Promise<EntranceScanResultDto> {
    const answer = await this.decide({
      eventId,
      roomId: null,
      qrData: dto.qr_data,
      direction: 'in',
      caller,
      deviceId: deviceOf(dto, caller),
      nonce: dto.nonce,
      source: 'online',
    });
    return pick<EntranceScanResultDto>(answer, ENTRANCE_FIELDS);
  }
}
