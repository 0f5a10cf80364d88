import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import * as QRCode from 'qrcode';
import { DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { assertEventFilter } from '../../common/auth/event-scope';
import type { EventRole } from '../../common/auth/event-role';
import { AppException, conflict, notFound, validationFailed } from '../../common/errors/app.exception';
import { escapeLike, orderingOf, type Page, pageOf } from '../../common/pagination/pagination';
import { AssignmentErrors } from '../assignments/assignments.errors';
import { AssignmentsService } from '../assignments/assignments.service';
import { UserEventAssignment } from '../assignments/entities/user-event-assignment.entity';
import { FilesService, type OpenedFile } from '../files/files.service';
import { RoomsService } from '../rooms/rooms.service';
import { User } from '../users/entities/user.entity';
import { fullName, UsersService } from '../users/users.service';
import { BADGE_ROLES, BadgeIssuer } from './badge-issuer';
import type {
  CreateParticipantDto,
  GeneratedQrDto,
  ParticipantDto,
  ParticipantListQueryDto,
  UpdateOwnBadgeDto,
  UpdateParticipantDto,
} from './dto/participant.dto';
import { Participant } from './entities/participant.entity';
import { ParticipantErrors } from './participants.errors';

const ORDER_COLUMNS = {
  badge_id: 'p.badgeId',
  created_at: 'p.createdAt',
  checked_in_at: 'p.checkedInAt',
  last_name: 'u.lastName',
  email: 'u.email',
};

type Row = Participant & { user: User; assignment: UserEventAssignment };

export type BadgeFormat = 'png' | 'svg';

/** Every badge image: medium error correction (a scratched badge still reads), a quiet zone of two modules. */
const QR_IMAGE = { errorCorrectionLevel: 'M', margin: 2 } as const;
const QR_PNG = { ...QR_IMAGE, width: 512 } as const;

@Injectable()
export class ParticipantsService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly issuer: BadgeIssuer,
    private readonly assignments: AssignmentsService,
    private readonly users: UsersService,
    private readonly rooms: RoomsService,
    private readonly files: FilesService,
  ) {}

  /** Every participant and exposant has a badge: one is issued in the transaction that gives them the role. */
  onModuleInit(): void {
    this.assignments.onMembershipChange(async (manager, a) => {
      if (BADGE_ROLES.includes(a.role)) await this.issuer.ensure(manager, a.eventId, [a.userId]);
    });
  }

  // ---- used by other modules --------------------------------------------------------------------------------------

  /** Whether this badge id belongs to the event. */
  exists(eventId: string, id: string): Promise<boolean> {
    return this.dataSource.getRepository(Participant).existsBy({ eventId, id });
  }

  /** The id of the user's badge in the event, or null. */
  async idOfUser(eventId: string, userId: string): Promise<string | null> {
    const p = await this.dataSource
      .getRepository(Participant)
      .findOne({ select: { id: true }, where: { eventId, userId } });
    return p?.id ?? null;
  }

  // ---- /api/participants/ -----------------------------------------------------------------------------------------

  /** Lists never carry `qr_code_data`, whoever asks. */
  async list(eventId: string, query: ParticipantListQueryDto, request: FastifyRequest): Promise<Page<ParticipantDto>> {
    assertEventFilter(query.event, eventId);
    const qb = this.withUser(eventId);
    if (query.is_checked_in !== undefined) qb.andWhere('p.is_checked_in = :ci', { ci: query.is_checked_in });
    if (query.role) qb.andWhere('a.role = :role', { role: query.role });
    if (query.search) {
      qb.andWhere(`(u.email ILIKE :s OR (u.first_name || ' ' || u.last_name) ILIKE :s OR p.badge_id ILIKE :s)`, {
        s: `%${escapeLike(query.search)}%`,
      });
    }
    return pageOf(qb, orderingOf(query.ordering, ORDER_COLUMNS, ['p.createdAt', 'ASC']), query, request, (rows) =>
      rows.map((p) => this.toDto(p as Row, false)),
    );
  }

  /** One badge; `qr_code_data` only for organisateurs (the route's other readers do not get it). */
  async get(eventId: string, id: string, caller: AuthContext): Promise<ParticipantDto> {
    const row = await this.row(eventId, id);
    return this.toDto(row, caller.role === 'organisateur' || row.userId === caller.userId);
  }

  /** The caller's own badge, with its QR. */
  async mine(eventId: string, userId: string): Promise<ParticipantDto> {
    const own = await this.ownBadge(eventId, userId);
    if (!own) throw notFound('Badge');
    return own;
  }

  /** `PATCH me/`: the holder's own settings on their badge. */
  async updateMine(eventId: string, userId: string, dto: UpdateOwnBadgeDto): Promise<ParticipantDto> {
    if (dto.share_contact_with_exhibitors !== undefined) {
      const result = await this.dataSource
        .getRepository(Participant)
        .update(
          { eventId, userId },
          { shareContactWithExhibitors: dto.share_contact_with_exhibitors, updatedAt: new Date() },
        );
      if (!result.affected) throw notFound('Badge');
    }
    return this.mine(eventId, userId);
  }

  /** The user's own badge in the event with its QR, or null (the profile shows it). */
  async ownBadge(eventId: string, userId: string): Promise<ParticipantDto | null> {
    const row = (await this.withUser(eventId).andWhere('p.user_id = :userId', { userId }).getOne()) as Row | null;
    return row ? this.toDto(row, true) : null;
  }

  /**
   * Gives a user a badge in the event, adding them with `role` (default participant) when they have no role yet.
   * One transaction; the unique (event, user) keys decide between concurrent requests for the same person.
   */
  async create(eventId: string, dto: CreateParticipantDto, caller: AuthContext): Promise<ParticipantDto> {
    await this.assertRooms(eventId, dto.allowed_rooms);
    const userId = await this.dataSource.transaction(async (manager) => {
      const user = await this.users.resolveReference(dto, manager);
      const existing = await this.assignments.membership(eventId, user.id, manager);
      let joinedNow = false;
      if (!existing) {
        await this.assignments
          .assign(eventId, user.id, dto.role ?? 'participant', caller.userId, manager)
          .catch((error: unknown) => {
            // Another request added this person at the same moment: for this one the badge exists.
            if (error instanceof AppException && error.code === AssignmentErrors.ASSIGNMENT_EXISTS) {
              throw this.alreadyHasBadge();
            }
            throw error;
          });
        joinedNow = true;
      } else if (dto.role !== undefined && dto.role !== existing.role) {
        throw conflict(
          ParticipantErrors.ROLE_MISMATCH,
          `This user is already ${existing.role} in this event; change the role with PATCH`,
        );
      }
      const issued = await this.issuer.ensure(manager, eventId, [user.id]);
      if (!joinedNow && issued.length === 0) throw this.alreadyHasBadge();
      if (dto.allowed_rooms) await this.setAllowedRooms(manager, eventId, { userId: user.id }, dto.allowed_rooms);
      return user.id;
    });
    return this.mine(eventId, userId);
  }

  /** `allowed_rooms` and the holder's role (with the rules of user-assignments: not one's own, not the last organizer). */
  async update(eventId: string, id: string, dto: UpdateParticipantDto, caller: AuthContext): Promise<ParticipantDto> {
    const row = await this.row(eventId, id);
    await this.assertRooms(eventId, dto.allowed_rooms);
    if (dto.role !== undefined && dto.role !== row.assignment.role) {
      await this.assignments.update(eventId, row.assignment.id, { role: dto.role }, caller);
    }
    if (dto.allowed_rooms !== undefined) {
      await this.setAllowedRooms(this.dataSource.manager, eventId, { id }, dto.allowed_rooms);
    }
    return this.get(eventId, id, caller);
  }

  /**
   * A participant or exposant leaves the event with their badge (their role is removed, which removes the badge);
   * a staff member only loses the badge and keeps their role.
   */
  async remove(eventId: string, id: string, caller: AuthContext): Promise<void> {
    const row = await this.row(eventId, id);
    if (BADGE_ROLES.includes(row.assignment.role)) {
      await this.assignments.remove(eventId, row.assignment.id, caller);
      return;
    }
    const result = await this.dataSource.getRepository(Participant).delete({ id, eventId });
    if (!result.affected) throw notFound('Participant');
    await this.files.remove(eventId, row.planFile);
  }

  /** Revokes the current QR (doors then answer BADGE_REVOKED for it) and returns the badge with its new one. */
  async rotate(eventId: string, id: string, caller: AuthContext): Promise<ParticipantDto> {
    if (!(await this.issuer.rotate(this.dataSource.manager, eventId, id))) throw notFound('Participant');
    return this.get(eventId, id, caller);
  }

  /** `POST /api/qr/generate/`: rotates and returns the new QR as text and as a PNG data URL. */
  async generate(eventId: string, participantId: string): Promise<GeneratedQrDto> {
    if (!(await this.issuer.rotate(this.dataSource.manager, eventId, participantId))) {
      throw validationFailed({ participant_id: ['Must be a participant of this event'] });
    }
    const row = await this.row(eventId, participantId);
    const text = this.issuer.qrCodeData(row);
    return {
      participant_id: row.id,
      qr_code_data: text,
      png_data_url: await QRCode.toDataURL(text, QR_PNG),
    };
  }

  /** The QR image of a badge, for its owner and organisateurs; for anyone else the badge does not exist. */
  async badgeImage(eventId: string, id: string, caller: AuthContext, format: BadgeFormat): Promise<Buffer | string> {
    const row = await this.row(eventId, id);
    if (caller.role !== 'organisateur' && row.userId !== caller.userId) throw notFound('Participant');
    const text = this.issuer.qrCodeData(row);
    return format === 'png'
      ? QRCode.toBuffer(text, { ...QR_PNG, type: 'png' })
      : QRCode.toString(text, { ...QR_IMAGE, type: 'svg' });
  }

  async uploadPlan(eventId: string, id: string, request: FastifyRequest, caller: AuthContext): Promise<ParticipantDto> {
    await this.row(eventId, id);
    const stored = await this.files.saveUpload(eventId, 'plan', 'pdf', request);
    await this.files.replaceIn(
      {
        table: 'participants',
        column: 'plan_file',
        where: 'id = $1 AND event_id = $2',
        params: [id, eventId],
        what: 'Participant',
      },
      eventId,
      stored,
    );
    return this.get(eventId, id, caller);
  }

  /** The exhibitor plan: its owner and the event's organisateurs and room managers. */
  async openPlan(eventId: string, id: string, caller: AuthContext): Promise<OpenedFile> {
    const row = await this.row(eventId, id);
    const staff: (EventRole | null)[] = ['organisateur', 'gestionnaire_des_salles'];
    if (!staff.includes(caller.role) && row.userId !== caller.userId) throw notFound('Participant');
    const file = await this.files.open(eventId, row.planFile);
    if (!file) throw notFound('File');
    return file;
  }

  // ---- helpers ----------------------------------------------------------------------------------------------------

  private withUser(eventId: string): SelectQueryBuilder<Participant> {
    return this.dataSource
      .getRepository(Participant)
      .createQueryBuilder('p')
      .innerJoinAndMapOne('p.user', User, 'u', 'u.id = p.user_id')
      .innerJoinAndMapOne('p.assignment', UserEventAssignment, 'a', 'a.event_id = p.event_id AND a.user_id = p.user_id')
      .where('p.event_id = :eventId', { eventId });
  }

  private async row(eventId: string, id: string): Promise<Row> {
    const row = (await this.withUser(eventId).andWhere('p.id = :id', { id }).getOne()) as Row | null;
    if (!row) throw notFound('Participant');
    return row;
  }

  private async assertRooms(eventId: string, ids: string[] | undefined): Promise<void> {
    if (!ids || ids.length === 0) return;
    const unknown = await this.rooms.notInEvent(eventId, ids);
    if (unknown.length > 0) {
      throw validationFailed({ allowed_rooms: [`Not rooms of this event: ${unknown.join(', ')}`] });
    }
  }

  private async setAllowedRooms(
    manager: EntityManager,
    eventId: string,
    which: { id: string } | { userId: string },
    rooms: string[],
  ): Promise<void> {
    await manager
      .getRepository(Participant)
      .update({ eventId, ...which }, { allowedRooms: rooms.map((r) => r.toLowerCase()), updatedAt: new Date() });
  }

  private alreadyHasBadge(): AppException {
    return conflict(ParticipantErrors.PARTICIPANT_EXISTS, 'This user already has a badge in this event');
  }

  private toDto(p: Row, withQr: boolean): ParticipantDto {
    const dto: ParticipantDto = {
      id: p.id,
      user: p.userId,
      user_name: fullName(p.user),
      user_email: p.user.email,
      event: p.eventId,
      badge_id: p.badgeId,
      is_checked_in: p.isCheckedIn,
      checked_in_at: p.checkedInAt,
      allowed_rooms: p.allowedRooms,
      plan_file: p.planFile ? `/api/participants/${p.id}/plan/` : null,
      role: p.assignment.role,
      share_contact_with_exhibitors: p.shareContactWithExhibitors,
      created_at: p.createdAt,
      updated_at: p.updatedAt,
    };
    if (withQr) dto.qr_code_data = this.issuer.qrCodeData(p);
    return dto;
  }
}
