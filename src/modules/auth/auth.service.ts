import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../../common/auth/auth-context';
import { conflict, ErrorCode, notFound, unauthorized, validationFailed } from '../../common/errors/app.exception';
import { constraintViolation } from '../../common/errors/database-errors';
import { AssignmentsService } from '../assignments/assignments.service';
import type { EventWithRoleDto } from '../events/dto/event.dto';
import { EventsService } from '../events/events.service';
import { ParticipantsService } from '../participants/participants.service';
import { UserDto } from '../users/dto/user.dto';
import type { User } from '../users/entities/user.entity';
import { UsersService } from '../users/users.service';
import { AuthErrors } from './auth.errors';
import type {
  ChangePasswordDto,
  DiscordLinkCodeDto,
  EventSelectionResponseDto,
  MyEventsDto,
  ProfileDto,
  RegisterDto,
  RegisterResponseDto,
  SessionResponseDto,
  UpdateProfileDto,
} from './dto/auth.dto';
import { SessionsService, type TokenPair } from './sessions.service';

const invalidCredentials = () => unauthorized(ErrorCode.INVALID_CREDENTIALS, 'Invalid email or password');

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly events: EventsService,
    private readonly assignments: AssignmentsService,
    private readonly participants: ParticipantsService,
  ) {}

  /** New account, or claims the password-less account an organizer created for this email (keeping its roles). */
  async register(dto: RegisterDto, userAgent?: string): Promise<RegisterResponseDto> {
    const existing = await this.users.findByEmail(dto.email);
    let user: User | null;
    if (existing) {
      user =
        existing.passwordHash === null
          ? await this.users.claim(dto.email, dto.password, dto.first_name, dto.last_name)
          : null;
    } else {
      user = await this.users
        .create({ email: dto.email, password: dto.password, firstName: dto.first_name, lastName: dto.last_name })
        .catch((error: unknown) => {
          if (constraintViolation(error)?.kind !== 'unique') throw error;
          // Someone else created this email meanwhile: an organizer's invite is still claimable, an account is not.
          return this.users.claim(dto.email, dto.password, dto.first_name, dto.last_name);
        });
    }
    if (!user) throw conflict(AuthErrors.EMAIL_TAKEN, 'An account with this email already exists');
    const memberships = await this.assignments.activeMemberships(user.id);
    const eventId = memberships.length === 1 ? (memberships[0]?.eventId ?? null) : null;
    const pair = await this.sessions.open(user.id, eventId, userAgent);
    return { user: UserDto.from(user), ...pair };
  }

  async login(
    email: string,
    password: string,
    userAgent?: string,
  ): Promise<SessionResponseDto | EventSelectionResponseDto> {
    const user = await this.users.findByEmail(email);
    const ok = await this.users.verifyPassword(user, password);
    if (!user || !ok || !user.isActive) throw invalidCredentials();
    const events = await this.events.withRoles(user.id);
    if (events.length > 1) {
      return {
        requires_event_selection: true,
        temp_token: this.sessions.signSelection(user.id, user.passwordHash),
        available_events: events,
        user: UserDto.from(user),
      };
    }
    return this.openFor(user, events[0] ?? null, userAgent);
  }

  /** Second step of a multi-event login; also how a logged-in user changes event (`switch-event/`). */
  async selectEvent(auth: AuthContext, eventId: string, userAgent?: string): Promise<SessionResponseDto> {
    const user = await this.users.findById(auth.userId);
    if (!user || !user.isActive) throw unauthorized(ErrorCode.MEMBERSHIP_REVOKED, 'Account is no longer active');
    const event = (await this.events.withRoles(auth.userId)).find((e) => e.id === eventId.toLowerCase());
    if (!event) throw notFound('Event');
    // A temp_token is spent only by a successful choice: a wrong event id leaves it usable for a second try.
    if (auth.selection) await this.sessions.spendSelection(auth.selection.tokenId, auth.selection.expiresAt);
    return this.openFor(user, event, userAgent);
  }

  async switchEvent(auth: AuthContext, eventId: string, userAgent?: string): Promise<SessionResponseDto> {
    const response = await this.selectEvent(auth, eventId, userAgent);
    if (auth.sessionId) await this.sessions.revoke(auth.sessionId, 'event_switch');
    return response;
  }

  refresh(refresh: string): Promise<TokenPair> {
    return this.sessions.rotate(refresh);
  }

  async logout(auth: AuthContext, refresh?: string): Promise<void> {
    if (auth.sessionId) await this.sessions.revoke(auth.sessionId, 'logout');
    if (refresh) await this.sessions.revokeByRefresh(auth.userId, refresh, 'logout');
  }

  async myEvents(auth: AuthContext): Promise<MyEventsDto> {
    const events = await this.events.withRoles(auth.userId);
    return {
      count: events.length,
      current_event_id: auth.eventId,
      events: events.map((e) => ({ ...e, is_current: e.id === auth.eventId })),
    };
  }

  /** A one-time code that lets the Discord bot link the caller's Discord account to this account. */
  discordLinkCode(auth: AuthContext): Promise<DiscordLinkCodeDto> {
    return this.users.issueDiscordLinkCode(auth.userId);
  }

  async profile(auth: AuthContext): Promise<ProfileDto> {
    const user = await this.users.getById(auth.userId);
    const event = auth.eventId ? await this.events.getVisible(auth.eventId, auth) : null;
    return {
      ...UserDto.from(user),
      is_staff: user.isStaff,
      discord_user_id: user.discordUserId,
      discord_username: user.discordUsername,
      role: auth.role,
      event,
      participant: auth.eventId ? await this.participants.ownBadge(auth.eventId, auth.userId) : null,
    };
  }

  async updateProfile(auth: AuthContext, dto: UpdateProfileDto): Promise<ProfileDto> {
    await this.users.updateNames(auth.userId, { firstName: dto.first_name, lastName: dto.last_name });
    return this.profile(auth);
  }

  async changePassword(auth: AuthContext, dto: ChangePasswordDto): Promise<void> {
    const user = await this.users.getById(auth.userId);
    if (!(await this.users.verifyPassword(user, dto.old_password))) {
      throw validationFailed({ old_password: ['Wrong password'] }, 'Wrong password');
    }
    await this.users.setPassword(user.id, dto.new_password);
    await this.sessions.revokeAllOfUser(user.id, auth.sessionId, 'password_change');
  }

  private async openFor(user: User, event: EventWithRoleDto | null, userAgent?: string): Promise<SessionResponseDto> {
    const pair = await this.sessions.open(user.id, event?.id ?? null, userAgent, user.passwordHash);
    if (!event) return { ...pair, user: UserDto.from(user), role: null, event: null };
    const { role, ...eventDto } = event;
    return { ...pair, user: UserDto.from(user), role, event: eventDto };
  }
}
