import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { IsNull, type Repository } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { BotTokenVerifier, type BotContext } from '../../common/auth/bot-auth';
import { ErrorCode, notFound, unauthorized } from '../../common/errors/app.exception';
import { type ListQueryDto, type Page, pageOf } from '../../common/pagination/pagination';
import type { BotTokenDto, CreateBotTokenDto, CreatedBotTokenDto } from './dto/bot-token.dto';
import { DiscordBotToken } from './entities/discord-bot-token.entity';

/** Recognisable in logs, secret scanners and config files. */
export const BOT_TOKEN_PREFIX = 'mpbot_';
/** Longest header worth hashing: a real token is 49 characters. */
const MAX_TOKEN_LENGTH = 200;
/** `last_used_at` is written at most this often per token, not on every bot request. */
const LAST_USED_STEP_MS = 60_000;

const hashOf = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** Event-scoped tokens for the Discord bot: created and revoked by organisateurs, checked by the global guard. */
@Injectable()
export class BotTokensService extends BotTokenVerifier {
  constructor(@InjectRepository(DiscordBotToken) private readonly tokens: Repository<DiscordBotToken>) {
    super();
  }

  /** A new token of 256 random bits; only its hash is stored, so this answer is the only place it appears. */
  async create(eventId: string, dto: CreateBotTokenDto, caller: AuthContext): Promise<CreatedBotTokenDto> {
    const token = `${BOT_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const saved = await this.tokens.save(
      this.tokens.create({
        eventId,
        name: dto.name.trim(),
        tokenHash: hashOf(token),
        channelIds: dto.channel_ids ?? [],
        createdById: caller.userId,
        revokedAt: null,
        lastUsedAt: null,
      }),
    );
    return { id: saved.id, name: saved.name, token, channel_ids: saved.channelIds, created_at: saved.createdAt };
  }

  /** The event's tokens, newest first, revoked ones included (with `revoked_at`). */
  list(eventId: string, query: ListQueryDto, request: FastifyRequest): Promise<Page<BotTokenDto>> {
    const qb = this.tokens.createQueryBuilder('t').where('t.event_id = :eventId', { eventId });
    return pageOf(qb, ['t.createdAt', 'DESC'], query, request, (rows) => rows.map(toDto));
  }

  /** Revokes at once (nothing caches a token); revoking again keeps the first date. Another event's token: 404. */
  async revoke(eventId: string, id: string): Promise<void> {
    const found = await this.tokens.existsBy({ id, eventId });
    if (!found) throw notFound('Bot token');
    await this.tokens.update({ id, eventId, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
  }

  async verify(token: string): Promise<BotContext> {
    const row =
      token.length <= MAX_TOKEN_LENGTH && token.startsWith(BOT_TOKEN_PREFIX)
        ? await this.tokens.findOneBy({ tokenHash: hashOf(token), revokedAt: IsNull() })
        : null;
    if (!row) throw unauthorized(ErrorCode.TOKEN_INVALID, 'Unknown or revoked bot token');
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_STEP_MS) {
      await this.tokens.update({ id: row.id }, { lastUsedAt: () => 'now()' });
    }
    return { tokenId: row.id, eventId: row.eventId, channelIds: row.channelIds };
  }
}

function toDto(t: DiscordBotToken): BotTokenDto {
  return {
    id: t.id,
    name: t.name,
    channel_ids: t.channelIds,
    created_by: t.createdById,
    created_at: t.createdAt,
    revoked_at: t.revokedAt,
    last_used_at: t.lastUsedAt,
  };
}
